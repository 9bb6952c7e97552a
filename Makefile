# The two commands a new user needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
LOCK := requirements-lock.txt
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml $(LOCK) | sha1sum | cut -c1-12)
# uv resolves the lock: the one in the virtualenv once `make install` has run, else one on PATH.
UV = $(or $(wildcard $(BIN)/uv),uv)

.PHONY: demo test install browsers deploy-tools prove bench lint clean lock audit

# Every package comes from the lock, each checked against its hashes (pip, setuptools and wheel too), then
# OneVoice itself is built with the locked setuptools and installed without looking for dependencies. The lock
# is the whole closure (uv pip compile), so it is installed with --no-deps and `pip check` then proves every
# dependency is there: resolving again made the pip that a new virtualenv brings (23.2) refuse the lock once an
# index offered a newer cachecontrol, for pip-audit's `CacheControl[filecache]` (an extra is a requirement that
# hash mode wants pinned).
$(STAMP): pyproject.toml $(LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r $(LOCK)
	$(BIN)/python -m pip check
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
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

## Debian's nginx and systemd-analyze for the deployment checks and the topology drill (tests/deploy/):
## installed, never started as a service (the drill runs its own nginx under a temporary prefix).
deploy-tools:
	@{ command -v nginx || test -x /usr/sbin/nginx; } >/dev/null 2>&1 && command -v systemd-analyze >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = "0" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends nginx systemd >/dev/null && { nginx -s quit 2>/dev/null || true; }; \
	  else echo "nginx or systemd-analyze is missing: sudo apt-get install nginx systemd (deploy tests will be skipped)"; fi; }

## The production topology's failure drill on this machine (docs/operations.md, "Proving the topology")
prove: install deploy-tools
	$(BIN)/python -m deploy.prove

## Run the whole test suite (SQLite, PostgreSQL and Redis when reachable, browser tests), in TEST_PROCESSES
## processes (pytest-xdist; each test file stays in one process, each process has its own PostgreSQL database).
TEST_PROCESSES ?= 2
test: install browsers deploy-tools
	$(BIN)/python -m pytest -q -n $(TEST_PROCESSES) --dist loadfile

bench: install
	$(BIN)/python -m bench.run_all

lint: install
	$(BIN)/ruff check src tests bench deploy

## Re-resolve the lock after changing a dependency in pyproject.toml: keeps every other pin as it is;
## `make lock UPGRADE=1` moves everything to the newest releases the bounds allow. Commit the result.
## The build-model extra (torch) is never locked: it has its own virtualenv (scripts/build_encoder.py).
lock:
	$(UV) pip compile pyproject.toml --extra test --extra train --group build --group supply \
	  --universal --python-version 3.11 --generate-hashes $(if $(UPGRADE),--upgrade) \
	  --custom-compile-command 'make lock' --quiet -o $(LOCK)

## Check every locked package against the published advisories (needs PyPI's JSON API; see docs/security.md)
audit: install
	$(BIN)/python scripts/audit_lock.py $(LOCK)

clean:
	rm -rf $(VENV) data .pytest_cache
