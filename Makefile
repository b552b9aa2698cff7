# Vaxel: `make run` starts the switch with a demo company; `make test` runs every test.
# Both set up what they need first: a .venv with the Python packages, and the
# Debian packages the tests and the switch use (installed with apt-get when missing).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The switch: venv for .venv, gcc and headers for the compiled modules, espeak-ng and sox for
# the prompts it speaks. The tests add their SIP peers, PostgreSQL, openssl (a TLS test) and
# Chromium (the pages' browser tests, driven by Playwright) and poppler-utils (pdftotext
# reads the reports' PDFs back).
RUN_PACKAGES := python3-venv gcc python3-dev espeak-ng sox libsox-fmt-all
TEST_PACKAGES := $(RUN_PACKAGES) sip-tester baresip-core postgresql openssl chromium poppler-utils
STAMP := $(VENV)/.installed

.PHONY: run test lint deps run-deps apt venv native assets bench clean

run: run-deps venv native assets
	$(BIN)/vaxel serve --demo

# Three workers, a test file each at a time (a file's fixtures stay in one worker): most
# tests wait on real calls and prompts, not on a core.
# A test marked `alone` (30 callers at once) runs after the rest, so that it neither slows
# nor is slowed by the tests beside it.
test: deps venv native assets lint
	$(BIN)/pytest -q -p no:cacheprovider -n 3 --dist loadfile -m "not alone"
	$(BIN)/pytest -q -p no:cacheprovider -m alone

# Style, then types: mypy reads [tool.mypy] in pyproject.toml (strict on sip, rtp, calls).
lint: venv
	$(BIN)/ruff check src tests bench tools
	$(BIN)/ruff format --check src tests bench tools
	$(BIN)/mypy

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || { echo "make: creating $(VENV)"; $(PYTHON) -m venv $(VENV); }
	@echo "make: installing Python packages into $(VENV)"
	$(BIN)/pip install -q --disable-pip-version-check -e '.[test,fast,native]'
	@touch $(STAMP)

# The hot modules compiled with mypyc (src/vaxel/native.py); quick when already current.
# Without a C compiler it says so and the switch runs from its sources; with one, a module
# mypyc cannot compile stops make.
native: venv
	@$(BIN)/python tools/native.py

# The web pages' browser libraries, from npm at pinned versions (tools/vendor.py); npm
# comes from Debian when the machine has none.
assets: venv
	@command -v npm >/dev/null || $(MAKE) --no-print-directory apt PACKAGES="npm"
	@$(BIN)/python tools/vendor.py

deps:
	@$(MAKE) --no-print-directory apt PACKAGES="$(TEST_PACKAGES)"

run-deps:
	@$(MAKE) --no-print-directory apt PACKAGES="$(RUN_PACKAGES)"

# Installs the Debian packages in PACKAGES that are missing, and says which.
apt:
	@missing=""; for p in $(PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "make: installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

# Benchmarks print figures and write them to bench/results/ (see bench/README.md). The full
# runs take about half an hour together and fill both cores: run them on a quiet machine.
#   make bench                        all fifteen, full runs
#   make bench BENCH=call_rate        one of them
#   make bench ARGS=--quick           smoke runs, a few seconds to a minute each
BENCHMARKS := registrar_hot_path register_rate call_rate media_relay conference srtp webrtc rtpengine blf api_pages api_load events ws_register tls queue
BENCH ?= $(BENCHMARKS)
ARGS ?=

bench: deps venv native assets
	@$(MAKE) --no-print-directory apt PACKAGES="kamailio rtpengine-daemon"
	@for b in $(BENCH); do \
	  echo "make: bench/$$b.py $(ARGS)"; \
	  $(BIN)/python bench/$$b.py $(ARGS) || exit 1; \
	done

clean:
	rm -rf $(VENV) build .build *.egg-info
