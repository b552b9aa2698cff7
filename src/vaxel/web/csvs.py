"""CSV downloads (call records, the audit log) that a spreadsheet opens safely."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from fastapi import Response


def cell(value: object) -> str:
    """A cell a spreadsheet will not run as a formula (CWE-1236): a leading =, +, -, @,
    tab or carriage return gets a quote before it."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_response(
    header: Sequence[str], rows: Iterable[Sequence[object]], filename: str
) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows([cell(value) for value in row] for row in rows)
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
