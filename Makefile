# `make dev` and `make test` are all a new user types (see README.md).
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# Links the demo prints and the app generates (private_url, emails) name the port served.
DEV_ENV = DEBUG=1 SITE_URL=$${SITE_URL:-http://$(HOST):$(PORT)}

# Django 6 needs Python 3.12 or newer: take the first such interpreter on PATH or in
# pyenv's versions (whose shims only answer when pyenv selects them).
FIND_PYTHON = for candidate in $${PYTHON:-} python3.13 python3.12 python3 \
	  $$HOME/.pyenv/versions/3.13*/bin/python3 $$HOME/.pyenv/versions/3.12*/bin/python3 \
	  /usr/local/bin/python3.1[2-9] /usr/bin/python3.1[2-9]; do \
	  if [ -n "$$candidate" ] && "$$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then \
	    echo "$$candidate"; exit 0; fi; done; exit 1

.PHONY: dev test venv serve lint migrations-check worker bench clean demo-credentials

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@python="$$($(FIND_PYTHON))" || { echo "Python 3.12 or newer is required (Django 6) and none was found."; \
	  echo "Install one (e.g. 'pyenv install 3.12' or your OS package python3.12), or run: make PYTHON=/path/to/python3.12 dev"; exit 1; }; \
	  if [ ! -x $(PY) ] || ! $(PY) -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then \
	    echo "Creating $(VENV) with $$python"; rm -rf $(VENV); "$$python" -m venv $(VENV); fi
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

venv: $(VENV)/.installed

dev: venv
	$(DEV_ENV) $(PY) manage.py migrate --noinput
	$(DEV_ENV) $(PY) manage.py createcachetable
	$(DEV_ENV) $(PY) manage.py seed_demo --if-new
	@# The SLA scheduler beside the server (warnings, breaches, surveys), stopped with it.
	$(DEV_ENV) $(PY) manage.py escalate_sla --loop & sla=$$!; trap 'kill $$sla 2>/dev/null' EXIT; \
	  $(DEV_ENV) $(PY) manage.py runserver $(HOST):$(PORT)

# The demo's sign-in, URLs and a fresh API key as JSON (earlier demo keys keep working).
demo-credentials: venv
	@$(DEV_ENV) $(PY) manage.py seed_demo --json

test: venv
	$(PY) -m pytest $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

migrations-check: venv
	DEBUG=1 $(PY) manage.py makemigrations --check --dry-run

# The task worker, and beside it (stopped with it) the retention rules, applied hourly,
# and the SLA scheduler (warnings, breaches, surveys; docs/deploy.md).
worker: venv
	$(PY) manage.py apply_retention --loop & retention=$$!; \
	  $(PY) manage.py escalate_sla --loop & sla=$$!; \
	  trap 'kill $$retention $$sla 2>/dev/null' EXIT; \
	  $(PY) manage.py db_worker

bench: venv
	@if [ -z "$$DATABASE_URL" ]; then echo "make bench needs DATABASE_URL pointing at PostgreSQL"; exit 1; fi
	$(PY) bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
