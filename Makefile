# The desk's commands. `make demo` and `make test` work on a fresh machine with only python3.
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_PASSWORD ?= desk-demo-2026
SCALE ?= s

.PHONY: setup demo serve test lint format worker bench clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

setup: $(VENV)/.installed

demo: setup
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo --password "$(DEMO_PASSWORD)"
	$(PY) manage.py runserver $(HOST):$(PORT)

test: setup
	$(PY) -m pytest

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run

format: setup
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

worker: setup
	$(VENV)/bin/celery -A supportdesk worker --beat --loglevel=info

bench: setup
	$(PY) manage.py bench --scale $(SCALE)

# 50 agents for 60 s and 1,000 webhooks against gunicorn; LOAD_ARGS adds options (--json FILE ...).
.PHONY: load
load: setup
	$(PY) manage.py loadtest $(LOAD_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
