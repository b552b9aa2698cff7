// S9, A10: the statistics page's chart. The figures are in the canvas's data-chart
// attribute (JSON: labels and series); Chart.js (vendored) draws them as bars. No inline
// script: the pages' Content-Security-Policy allows scripts from this site only.
"use strict";

(function () {
  const canvas = document.getElementById("stats-chart");
  if (!canvas || typeof Chart === "undefined") {
    return;
  }
  const figures = JSON.parse(canvas.dataset.chart);
  const colours = ["#2e7d32", "#c62828", "#1565c0"];
  const chart = new Chart(canvas, {
    type: "bar",
    data: {
      labels: figures.labels,
      datasets: figures.series.map(function (series, index) {
        return {
          label: series.label,
          data: series.data,
          backgroundColor: colours[index % colours.length],
        };
      }),
    },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      scales: { x: { stacked: false }, y: { beginAtZero: true, ticks: { precision: 0 } } },
    },
  });
  canvas.dataset.drawn = "true"; // for the browser tests: Chart.getChart(canvas) holds it
  window.vaxelStatisticsChart = chart;
})();
