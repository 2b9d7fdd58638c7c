# journey-orchestrator: two commands on a fresh machine with Python 3.11, git and make.
#   make demo   installs everything, generates a demo world and runs every pipeline stage
#   make test   installs what the tests need and runs them
SHELL := /bin/bash
PYTHON ?= python3.11
UV_VERSION := 0.13.8
BOOTSTRAP := .bootstrap
UV := $(BOOTSTRAP)/bin/uv
VENV := .venv
BIN := $(VENV)/bin

export JOURNEY_DATA_DIR ?= $(CURDIR)/data
export DAGSTER_HOME ?= $(JOURNEY_DATA_DIR)/dagster_home
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)

CUSTOMERS ?= 2000
DAYS ?= 70
SEED ?= 42
LOOP_DAYS ?= 2
BENCH_CUSTOMERS ?= 100000
BENCH_DAYS ?= 90
BENCH_IDENTITY_CUSTOMERS ?= 620000

.PHONY: install demo test lint dev mlflow bench clean dagster-home dbt-manifest dbt-docs serve

$(UV):
	$(PYTHON) -m venv $(BOOTSTRAP)
	$(BOOTSTRAP)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(BIN)/.installed: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --python $(PYTHON)
	touch $@

DBT_MANIFEST := dbt/target/manifest.json
DBT_SOURCES := $(shell find dbt/models dbt/macros dbt/tests -type f) dbt/dbt_project.yml dbt/profiles.yml

# The manifest is prepared here, once, so loading the Dagster definitions never runs dbt.
$(DBT_MANIFEST): $(BIN)/.installed $(DBT_SOURCES)
	cd dbt && ../$(BIN)/dbt parse --profiles-dir . --quiet
	touch $@

dbt-manifest: $(DBT_MANIFEST)

install: $(BIN)/.installed $(DBT_MANIFEST)

# dbt's profile defaults JOURNEY_DATA_DIR to ../data (relative to dbt/, where dbt runs), so plain
# dbt commands in dbt/ use the same warehouse as this Makefile's default.
dbt-docs: install
	@mkdir -p "$(JOURNEY_DATA_DIR)"
	cd dbt && ../$(BIN)/dbt docs generate --profiles-dir .
	@echo "dbt docs: dbt/target/index.html (serve with: cd dbt && ../$(BIN)/dbt docs serve --profiles-dir . --port 8080)"

dagster-home:
	@mkdir -p "$(DAGSTER_HOME)"
	@cp dagster_instance.yaml "$(DAGSTER_HOME)/dagster.yaml"

demo: install dagster-home
	$(BIN)/journey demo run --customers $(CUSTOMERS) --days $(DAYS) --seed $(SEED) --loop-days $(LOOP_DAYS)

test: install
	$(BIN)/ruff check .
	$(BIN)/pytest -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The UI and the daemon, with the automation on (pipeline/automation.py): files landing in the
# landing folders are ingested, refreshed, decided and delivered with no one pressing a button.
dev: install dagster-home
	JOURNEY_AUTOMATION=$(or $(JOURNEY_AUTOMATION),on) $(BIN)/dagster dev -w workspace.yaml

# The embedded MLflow store the pipeline writes, unless MLFLOW_TRACKING_URI names a team server.
MLFLOW_STORE := $(or $(MLFLOW_TRACKING_URI),sqlite:///$(JOURNEY_DATA_DIR)/mlflow/mlflow.db)

mlflow: install
	@mkdir -p "$(JOURNEY_DATA_DIR)/mlflow"
	$(BIN)/mlflow ui --backend-store-uri "$(MLFLOW_STORE)" --host 127.0.0.1 --port 5000

# The real-time decision API over the latest published snapshot (set JOURNEY_API_KEYS).
serve: install
	$(BIN)/journey serve --host $(or $(HOST),127.0.0.1) --port $(or $(PORT),8000)

bench: install dagster-home
	$(BIN)/journey bench --customers $(BENCH_CUSTOMERS) --days $(BENCH_DAYS) --seed $(SEED) --identity-customers $(BENCH_IDENTITY_CUSTOMERS)

clean:
	rm -rf "$(JOURNEY_DATA_DIR)" $(VENV) $(BOOTSTRAP)
