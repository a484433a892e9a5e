VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
GATEWAY := deploy/gateway
NODE_STAMP := $(GATEWAY)/node_modules/.installed
PORTAL := portal
PORTAL_STAMP := $(PORTAL)/node_modules/.installed
# The portal's operations as trusted documents (HARBORGRAPH_TRUSTED_DOCUMENTS): generated.
MANIFEST := $(PORTAL)/persisted-query-manifest.json
# The browser tests drive Debian's Chromium (package chromium); another path may be given.
CHROMIUM ?= /usr/bin/chromium

.PHONY: run test install gateway bench clean

run: $(STAMP) $(PORTAL_STAMP) $(MANIFEST)
	$(BIN)/harborgraph serve --print-tokens

test: $(STAMP) $(NODE_STAMP) $(PORTAL_STAMP) $(MANIFEST) $(CHROMIUM)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	CHROMIUM=$(CHROMIUM) $(BIN)/pytest

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys, venv; sys.exit(sys.version_info < (3, 11))' || { echo "make: needs Python 3.11+ with venv (Debian: apt install python3-venv)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Apollo's persisted query manifest of portal/operations: ids are the SHA-256 of each file's
# text, as portal.js computes them; ordered by name, so the same files give the same bytes.
$(MANIFEST): $(STAMP) $(wildcard $(PORTAL)/operations/*.graphql) graph/documents.py
	$(BIN)/harborgraph manifest $(PORTAL)/operations > $@.tmp
	mv $@.tmp $@

# The federation tests run a real gateway and a second subgraph from npm.
$(NODE_STAMP): $(GATEWAY)/package-lock.json
	@command -v npm >/dev/null || { echo "make: the federation tests need Node.js 20+ and npm (https://nodejs.org)"; exit 1; }
	cd $(GATEWAY) && npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

# The browser assets the app serves itself (GraphiQL in development), from a pinned lock.
$(PORTAL_STAMP): $(PORTAL)/package-lock.json
	@command -v npm >/dev/null || { echo "make: needs Node.js 20+ and npm for the browser assets (https://nodejs.org)"; exit 1; }
	cd $(PORTAL) && npm ci --no-audit --no-fund --loglevel=error
	touch $(PORTAL_STAMP)

# Debian's Chromium for the browser tests: installed with apt when missing (as root, or
# through sudo); elsewhere install Chromium and run `make test CHROMIUM=/path/to/chromium`.
$(CHROMIUM):
	@command -v apt-get >/dev/null || { echo "make: the browser tests need Chromium: install it and set CHROMIUM=/path"; exit 1; }
	if [ "$$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q chromium; else sudo apt-get update -q && sudo apt-get install -y -q chromium; fi

gateway: $(NODE_STAMP)
	cd $(GATEWAY) && node compose.mjs --config subgraphs.json --out supergraph.graphql
	cd $(GATEWAY) && node node_modules/@graphql-hive/gateway/dist/bin.js supergraph supergraph.graphql

bench: $(STAMP)
	$(BIN)/python tests/benchmark.py

clean:
	rm -rf $(VENV) $(MANIFEST) .harborgraph .pytest_cache .mypy_cache .ruff_cache $(GATEWAY)/node_modules $(PORTAL)/node_modules
