# The two commands of the README. Everything they need is installed from the project's own
# files into .venv, so they work on a fresh machine with only the package registries reachable.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: serve test build lint format clean

$(BIN)/kg: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

## Build the graph from data/articles and serve it at http://127.0.0.1:7878/
serve: $(BIN)/kg
	$(BIN)/kg build || [ $$? -eq 1 ]
	$(BIN)/kg serve

build: $(BIN)/kg
	$(BIN)/kg build

## Install what the tests need and run them (CI runs exactly this)
test: $(BIN)/kg
	@# The browser test drives Debian's headless Chromium; CI runs as root on a fresh machine.
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
		SUDO=$$([ "$$(id -u)" -eq 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver >/dev/null; \
	fi
	$(BIN)/ruff check kg tests scripts
	$(BIN)/pytest -q

lint: $(BIN)/kg
	$(BIN)/ruff check kg tests scripts
	$(BIN)/ruff format --check kg tests scripts

format: $(BIN)/kg
	$(BIN)/ruff format kg tests scripts

clean:
	rm -rf build .pytest_cache
