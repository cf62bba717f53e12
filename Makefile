# The dev loop. `make dev` and `make test` work from a fresh clone; everything else is a helper.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

WEB := web/agent
WEB_STAMP := $(WEB)/node_modules/.installed
# Everything the SPA build reads: a change to any of these rebuilds dist/, nothing else does.
WEB_SOURCES := $(shell find $(WEB) \( -path $(WEB)/node_modules -o -path $(WEB)/dist \) -prune -o -type f -print 2>/dev/null)

, := ,
# $(call timed,NAME,COMMAND): run COMMAND and print how long it took, so a CI log shows where the minutes go.
timed = @t0=$$(date +%s); $(2); rc=$$?; echo "[phase] $(1): $$(( $$(date +%s) - t0 )) s (exit $$rc)"; exit $$rc

.PHONY: install web web-test e2e dev test lint unit synth schemas bench bench-spa clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(call timed,python install,$(BIN)/pip install --quiet -e '.[dev$(,)infra]')
	touch $(STAMP)

install: $(STAMP)

# npm ci only when node_modules is older than the lock file; the build only when a source changed.
$(WEB_STAMP): $(WEB)/package.json $(WEB)/package-lock.json
	$(call timed,npm ci,cd $(WEB) && npm ci --no-audit --no-fund --loglevel=error)
	touch $@

$(WEB)/dist/index.html: $(WEB_STAMP) $(WEB_SOURCES)
	$(call timed,web build,cd $(WEB) && npm run build)
	touch $@

web: $(WEB)/dist/index.html

# The generated API types must match schemas/openapi.json, as the committed schemas must match the models.
web-test: $(WEB_STAMP)
	$(call timed,web api types,cd $(WEB) && npm run --silent check:api)
	$(call timed,web unit tests,cd $(WEB) && npm test)

# The browser tests: the built SPA served by a real `caseline dev`, driven in Debian's chromium.
e2e: install web
	$(call timed,e2e tests,$(BIN)/pytest tests/e2e $(E2E_ARGS))

dev: install web
	$(BIN)/caseline dev

lint: install
	$(call timed,ruff,$(BIN)/ruff check .)

# pytest exits 5 when it collects no tests; that is not a failure of the code under test.
unit: install
	$(call timed,python tests,$(BIN)/pytest --ignore=tests/e2e $(PYTEST_ARGS) || [ $$? -eq 5 ])

test: lint unit web-test e2e

synth: install
	CDK_OUTDIR=cdk.out $(BIN)/python infra/app.py

schemas: install
	$(BIN)/caseline schemas --out schemas

bench: install
	$(BIN)/python bench/timeline_scaling.py
	$(BIN)/python bench/api_load.py --quick
	$(BIN)/python bench/routing.py --repeat 1

bench-spa: install web
	$(BIN)/python bench/spa_load.py

clean:
	rm -rf cdk.out .pytest_cache .ruff_cache .cache .artifacts $(WEB)/dist
