# Accord's developer commands. `make run` and `make test` work on a fresh clone.
SHELL := /bin/bash
.DEFAULT_GOAL := run

UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
VENV := .venv
ACCORD := $(VENV)/bin/accord
PYTEST_WORKERS ?= 2

.PHONY: run test install install-dev assets test-deps system-deps messages lint fmt bench bench-work bench-reports bench-forms bench-transfer bench-mail bench-inbox bench-calls bench-comms bench-documents clean
LANGUAGES := ru he hy

## run: install what running needs, load the demo company into an empty database, serve
## Accord (PORT=8001 and HOST=0.0.0.0 choose where)
run: install assets
	@$(ACCORD) demo --if-empty
	@$(ACCORD) serve $(if $(PORT),--port $(PORT)) $(if $(HOST),--host $(HOST))

## test: install the test tools too and run the whole suite (DATABASE_URL picks the database)
test: install-dev assets test-deps
	$(VENV)/bin/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

## install: what running Accord needs (no test tools); install-dev: the "dev" group too
install: $(VENV)/.installed system-deps

# The end of a recipe that gathered Debian's packages it lacks in $$missing: installed as
# root, else named (and make stops).
APT_MISSING = if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Debian's$$missing..."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "make: Debian's packages are missing:$$missing (sudo apt-get install$$missing)"; \
	    exit 1; \
	  fi; \
	fi

## system-deps: the libraries WeasyPrint prints documents with (Debian's Pango and
## HarfBuzz); installed when missing if run as root, otherwise named. LibreOffice, which
## prints Word templates as PDF, is installed too when run as root; without it a Word
## template's documents are Word files only.
system-deps:
	@missing=""; \
	for lib in libpango-1.0-0:libpango-1.0.so.0 libpangoft2-1.0-0:libpangoft2-1.0.so.0 \
	    libharfbuzz-subset0:libharfbuzz-subset.so.0; do \
	  /sbin/ldconfig -p 2>/dev/null | grep -q "$${lib#*:}" || missing="$$missing $${lib%%:*}"; \
	done; \
	if ! command -v soffice >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then missing="$$missing libreoffice-writer-nogui"; \
	  else echo "make: Word templates print as PDF once LibreOffice is installed (sudo apt-get install libreoffice-writer-nogui)"; fi; \
	fi; \
	$(APT_MISSING)

$(VENV)/.installed: pyproject.toml uv.lock
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --frozen --no-dev --inexact
	@touch $@

install-dev: $(VENV)/.installed-dev

$(VENV)/.installed-dev: pyproject.toml uv.lock
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --frozen
	@touch $(VENV)/.installed $@

assets: install node_modules/.installed
	@$(VENV)/bin/python -m accord.web.assets
	@$(VENV)/bin/pybabel compile --domain django --directory accord/locale --use-fuzzy --statistics 2>&1 | grep -v "^compiling" || true

## messages: collect the translatable strings into accord/locale/*/LC_MESSAGES/django.po
messages: install
	$(ACCORD) manage makemessages $(addprefix -l ,$(LANGUAGES)) --no-obsolete --no-location \
	  --ignore=.venv --ignore=node_modules --ignore=tests --ignore=var

node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { echo "make: npm is missing; install Node.js (Debian: apt-get install nodejs npm)"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

## test-deps: Debian's chromium (the browser tests drive it), gettext (the
## translation check runs makemessages), dovecot-imapd (the real IMAP server of the
## e-mail tests) and poppler-utils (the document tests look at a PDF's page)
test-deps: system-deps
	@missing=""; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	command -v pdftoppm >/dev/null || missing="$$missing poppler-utils"; \
	command -v soffice >/dev/null || missing="$$missing libreoffice-writer-nogui"; \
	command -v xgettext >/dev/null || missing="$$missing gettext"; \
	[ -x /usr/sbin/dovecot ] || missing="$$missing dovecot-imapd"; \
	$(APT_MISSING)

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(ACCORD) manage makemigrations --check --dry-run

fmt: install-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

## bench: generate a client base and measure lists, search and the card on SQLite and
## PostgreSQL (docs/performance.md); size with BENCH_PEOPLE and BENCH_COMPANIES, more
## options in BENCH_ARGS (e.g. --engines sqlite --keep)
bench: install-dev assets
	$(VENV)/bin/python -m bench --people $(or $(BENCH_PEOPLE),100000) \
	  --companies $(or $(BENCH_COMPANIES),10000) $(BENCH_ARGS)

## bench-work: the board, a move, the funnel, a head's Today and the scheduler at scale
## (10,000 open + 500,000 closed deals, 1,000,000 stage moves, 100,000 tasks);
## BENCH_SCALE=0.1 for a tenth, BENCH_ARGS as above
bench-work: install-dev assets
	$(VENV)/bin/python -m bench.work --scale $(or $(BENCH_SCALE),1) $(BENCH_ARGS)

## bench-reports: each role's dashboard, cold and warm, over bench-work's deals and tasks,
## 1,000,000 clients and 10,000,000 activities; BENCH_SCALE=0.1 for a tenth
bench-reports: install-dev assets
	$(VENV)/bin/python -m bench.reports --scale $(or $(BENCH_SCALE),1) $(BENCH_ARGS)

## bench-forms: 6,000 requests to the window shop's web form, two at a time, on a new company
## with 200,000 clients, while a worker files them; BENCH_SCALE=0.1 for a tenth
bench-forms: install-dev assets
	$(VENV)/bin/python -m bench.forms --scale $(or $(BENCH_SCALE),1) $(BENCH_ARGS)

## bench-mail: a first fetch of BENCH_MESSAGES (10,000) e-mails from a local dovecot, and a
## fetch with nothing new (needs `make test-deps` for dovecot)
bench-mail: install-dev assets test-deps
	$(VENV)/bin/python -m bench.mail --messages $(or $(BENCH_MESSAGES),10000) $(BENCH_ARGS)

## bench-inbox: a client with 10,000 messages (their e-mail card, their page, a
## 1,000-message thread) and the Inbox over 100,000 conversations of four channels (all, a
## manager's, one channel's); BENCH_SCALE, BENCH_ARGS as above
bench-inbox: install-dev assets
	$(VENV)/bin/python -m bench.inbox --scale $(or $(BENCH_SCALE),1) $(BENCH_ARGS)

## bench-documents: the deal card's "Make the document" request, 1,000 invoices' PDFs made
## by one and by two workers, and 1,000 invoices numbered by 20 at once; BENCH_ARGS as above
bench-documents: install-dev assets
	$(VENV)/bin/python -m bench.documents $(BENCH_ARGS)

## bench-calls: 10,000 events, calls and WhatsApp messages mixed, through the webhooks, each
## matched by phone among 1,000,000 people (BENCH_SCALE scales the people); BENCH_ARGS as above
bench-calls: install-dev assets
	$(VENV)/bin/python -m bench.calls --scale $(or $(BENCH_SCALE),1) $(BENCH_ARGS)

## bench-comms: communication statistics over a year of 1,000,000 messages and 50,000 calls of
## 20 employees in three teams: the rollups rebuilt (time, rows/s, memory), then the report
## and its API for a team; BENCH_SCALE scales the messages and calls, BENCH_ARGS as above
bench-comms: install-dev assets
	$(VENV)/bin/python -m bench.comms_stats --scale $(or $(BENCH_SCALE),1) $(BENCH_ARGS)

## bench-transfer: import a CSV of BENCH_ROWS people (1,000,000), then export, back up
## and restore BENCH_PEOPLE (1,000,000); BENCH_ARGS as above (e.g. --engines sqlite)
bench-transfer: install-dev assets
	$(VENV)/bin/python -m bench.imports --rows $(or $(BENCH_ROWS),1000000) $(BENCH_ARGS)
	$(VENV)/bin/python -m bench.transfer --people $(or $(BENCH_PEOPLE),1000000) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) node_modules accord/web/static/vendor
