# The two commands a new user needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)

.PHONY: demo test install browsers bench lint clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,train]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

## Start OneVoice on SQLite with the demo organization at http://127.0.0.1:8000
demo: install
	$(BIN)/onevoice demo

## Debian's chromium for the browser tests (Playwright drives it; it never downloads a browser).
browsers:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = "0" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium is missing: sudo apt-get install chromium (browser tests will be skipped)"; fi; }

## Run the whole test suite (SQLite, PostgreSQL and Redis when reachable, browser tests)
test: install browsers
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python -m bench.run_all

lint: install
	$(BIN)/ruff check src tests bench

clean:
	rm -rf $(VENV) data .pytest_cache
