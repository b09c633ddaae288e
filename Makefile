# Paycollect — the two commands: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: demo test lint typecheck bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(STAMP)

## demo: run the demo scenario on embedded defaults (SQLite, in-process broker, simulators)
demo: $(STAMP)
	$(BIN)/paycollect simulate examples/demo.json

## test: lint, types, then the whole suite (integration tests need PostgreSQL and Redis)
test: $(DEV_STAMP)
	$(BIN)/ruff check domain adapters workers tests bench
	$(BIN)/mypy
	$(BIN)/python -m pytest -q -p no:cacheprovider

lint: $(DEV_STAMP)
	$(BIN)/ruff check domain adapters workers tests

typecheck: $(DEV_STAMP)
	$(BIN)/mypy

bench: $(DEV_STAMP)
	$(BIN)/python bench/pipeline.py
	$(BIN)/python bench/floor.py
	$(BIN)/python bench/renewals.py
	$(BIN)/python bench/usage.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache paycollect.db
