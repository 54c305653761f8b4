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

# The JupyterLab extension, installed as a user would (`pip install ./jupyter_ext`: the npm build runs inside
# pip). hatch-jupyter-builder skips that build while governance_jupyter/labextension exists, so a change to the
# TypeScript side (sources, styles, package.json, yarn.lock) deletes the built labextension first.
JEXT := jupyter_ext
JEXT_TS := $(JEXT)/package.json $(wildcard $(JEXT)/yarn.lock $(JEXT)/tsconfig.json $(JEXT)/src/*.ts $(JEXT)/src/*.tsx \
	$(JEXT)/src/*/*.ts $(JEXT)/src/*/*.tsx $(JEXT)/style/*)
JEXT_PY := $(JEXT)/pyproject.toml $(JEXT)/install.json $(wildcard $(JEXT)/governance_jupyter/*.py \
	$(JEXT)/jupyter-config/server-config/*.json)

$(BIN)/.jupyter_ext: $(BIN)/.installed $(JEXT_PY) $(JEXT_TS)
	@if [ -n "$(filter $(JEXT_TS),$?)" ]; then rm -rf $(JEXT)/governance_jupyter/labextension; fi
	$(BIN)/python -m pip install -q --force-reinstall --no-deps ./$(JEXT)
	touch $@

setup: $(BIN)/.installed $(BIN)/.jupyter_ext

# Each step runs under scripts/local_env.py, which writes var/local.env the first time and loads it
# (the environment wins) afresh, so the key load_demo appends there is printed by ensure_admin.
LOCAL := $(BIN)/python scripts/local_env.py $(BIN)/python manage.py

run: setup
	$(LOCAL) migrate --noinput
	$(LOCAL) load_demo
	$(LOCAL) load_llm_demo
	$(LOCAL) ensure_admin --base-url http://$(HOST):$(PORT)
	# Alerts only queue webhook deliveries; a sender beside the server delivers them (stopped with the server).
	$(LOCAL) deliver_webhooks --loop & sender=$$!; trap "kill $$sender 2>/dev/null" EXIT; $(LOCAL) runserver --noreload $(HOST):$(PORT)

test: setup
	PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/test.sh

lint: setup
	$(BIN)/ruff check .

# Every benchmark runs even if one before it fails (its figures still print); the target fails if any did.
bench: setup
	PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/with_db.sh bash -c \
	  'failed=0; for bench in bench/ingest.py bench/erasure.py bench/fairness.py bench/drift.py bench/llm.py bench/mlflow.py; do $(BIN)/python "$$bench" || failed=1; done; exit $$failed'

clean:
	rm -rf $(VENV) var/pg var/governance.sqlite3
