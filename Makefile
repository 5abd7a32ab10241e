# Vigie: `make run` starts the platform, `make test` runs the tests. Both install what is missing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test test-fast test-unit lint schemas postgres browser promtool bench clean

PARTS := pyproject.toml core/pyproject.toml sdk/pyproject.toml tools/pyproject.toml

$(STAMP): $(PARTS) constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e "./core[runtime]" -e ./sdk -e ".[dev]" -e ./tools
	touch $(STAMP)

install: $(STAMP)

# PostgreSQL from Debian's packages, for the registry tests on a real server.
postgres:
	@ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || { \
	  echo "Installing PostgreSQL from Debian packages"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq postgresql; }

# Chromium from Debian's packages, for the dashboard tests (driven by Playwright).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Chromium from Debian packages"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; }

# promtool from Debian's Prometheus package, for the checks of deploy/prometheus.
promtool:
	@command -v promtool >/dev/null 2>&1 || { \
	  echo "Installing promtool from Debian packages"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends prometheus; }

run: install
	$(PY) -m vigie_tools run

test: install postgres browser promtool
	$(PY) -m pytest

# No broker, no PostgreSQL, no browser, nothing slow: under a minute, for every change.
FAST := not kafka and not postgres and not browser and not slow

test-fast: install promtool
	$(PY) -m pytest -m "$(FAST)"

test-unit: install promtool
	$(PY) -m pytest tests/unit

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

schemas: install
	$(PY) -m vigie_tools schemas

bench: install
	$(PY) -m bench.e2e

clean:
	-$(PY) -m vigie_tools kafka stop
	rm -rf .vigie
