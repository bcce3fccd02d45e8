# Accord's developer commands. `make run` and `make test` work on a fresh clone.
SHELL := /bin/bash
.DEFAULT_GOAL := run

UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
VENV := .venv
ACCORD := $(VENV)/bin/accord
PYTEST_WORKERS ?= 2

.PHONY: run test install assets chromium lint fmt bench clean

## run: install everything, load the demo company into an empty database, serve Accord
run: install assets
	@$(ACCORD) demo --if-empty
	@$(ACCORD) serve

## test: install what the tests need and run the whole suite (DATABASE_URL picks the database)
test: install assets chromium
	$(VENV)/bin/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml uv.lock
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --frozen
	@touch $@

assets: node_modules/.installed
	@$(VENV)/bin/python -m accord.web.assets

node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { echo "make: npm is missing; install Node.js (Debian: apt-get install nodejs npm)"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

## chromium: the browser the end-to-end tests drive (Debian's package)
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Debian's chromium for the browser tests..."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "make: the browser tests need Debian's package 'chromium' (/usr/bin/chromium): sudo apt-get install chromium"; \
	    exit 1; \
	  fi; \
	fi

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(ACCORD) manage makemigrations --check --dry-run

fmt: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) node_modules accord/web/static/vendor
