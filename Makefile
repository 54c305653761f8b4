# The two commands: `make run` (demo on SQLite, served on 127.0.0.1:8000) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test setup lint bench clean

$(BIN)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	touch $@

setup: $(BIN)/.installed

run: setup
	$(BIN)/python scripts/local_env.py
	set -a && . var/local.env && set +a && \
	$(BIN)/python manage.py migrate --noinput && \
	$(BIN)/python manage.py load_demo && \
	$(BIN)/python manage.py ensure_admin && \
	$(BIN)/python manage.py runserver --noreload $(HOST):$(PORT)

test: setup
	PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/test.sh

lint: setup
	$(BIN)/ruff check .

bench: setup
	PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/with_db.sh $(BIN)/python bench/ingest.py

clean:
	rm -rf $(VENV) var/pg var/governance.sqlite3
