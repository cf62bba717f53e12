# The dev loop. `make dev` and `make test` work from a fresh clone; everything else is a helper.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

.PHONY: install dev test lint unit synth schemas bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,infra]'
	touch $(STAMP)

install: $(STAMP)

dev: install
	$(BIN)/caseline dev

lint: install
	$(BIN)/ruff check .

# pytest exits 5 when it collects no tests; that is not a failure of the code under test.
unit: install
	$(BIN)/pytest $(PYTEST_ARGS) || [ $$? -eq 5 ]

test: lint unit

synth: install
	CDK_OUTDIR=cdk.out $(BIN)/python infra/app.py

schemas: install
	$(BIN)/caseline schemas --out schemas

bench: install
	$(BIN)/python bench/timeline_scaling.py
	$(BIN)/python bench/api_load.py --quick

clean:
	rm -rf cdk.out .pytest_cache .ruff_cache .cache
