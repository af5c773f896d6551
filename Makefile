# The two commands of the README: `make run` and `make test`. Everything else supports them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HASH := $(shell cat pyproject.toml requirements.lock requirements-test.lock | sha1sum | cut -c1-12)
RUN_STAMP := $(VENV)/.installed-run-$(HASH)
STAMP := $(VENV)/.installed-test-$(HASH)
NODE_STAMP := tests/fhir_server/node_modules/.installed
PORT ?= 8080
FHIR_PORT ?= 8081

.PHONY: run test install install-run lock check lint typecheck test-only bench soak slow-clients clean

# Every package comes from the lock files, pinned with hashes (the image installs the same
# requirements.lock); the project itself is installed on top without resolving anything again.
# `make run` needs only what running needs; the test tools (playwright, schemathesis, mypy...) and the
# Spark engine (pyspark, the `spark` extra) come with `make test`. After changing dependencies in pyproject.toml: `make lock`.
$(RUN_STAMP): pyproject.toml requirements.lock
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --require-hashes -r requirements.lock
	$(BIN)/pip install -q --no-deps -e .
	touch $(RUN_STAMP)

$(STAMP): pyproject.toml requirements-test.lock
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --require-hashes -r requirements-test.lock
	$(BIN)/pip install -q --no-deps -e .
	touch $(STAMP) $(RUN_STAMP)

## lock: re-pin the whole dependency tree with hashes after a change to pyproject.toml (needs pip-tools)
LOCK_FLAGS := --quiet --generate-hashes --strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links
lock:
	pip-compile $(LOCK_FLAGS) -o requirements.lock pyproject.toml
	pip-compile $(LOCK_FLAGS) --extra test --extra spark -o requirements-test.lock pyproject.toml

$(NODE_STAMP): tests/fhir_server/package.json tests/fhir_server/package-lock.json
	cd tests/fhir_server && npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

install: $(STAMP) $(NODE_STAMP)

install-run: $(RUN_STAMP) $(NODE_STAMP)

## run: install what running needs, then start the service on http://127.0.0.1:$(PORT) with a local FHIR
## server (port $(FHIR_PORT)) and the demo patients; `make run PORT=8090 FHIR_PORT=8091` picks other ports
run: install-run
	$(BIN)/python -m cds_service.demo --port $(PORT) --fhir-port $(FHIR_PORT)

## test: install everything the tests need (Python, npm and Debian packages), lint, type-check, run all tests
test:
	bash scripts/ensure-system-packages.sh
	$(MAKE) install
	$(MAKE) check
	$(BIN)/pytest -q -n 2 --dist loadgroup

check: lint typecheck

lint:
	$(BIN)/ruff check cds_service hooks fhir_mappings tests bench
	$(BIN)/ruff format --check cds_service hooks fhir_mappings
	$(BIN)/lint-imports

typecheck:
	$(BIN)/mypy

## bench: the performance benchmark (table on stdout, JSON in bench/results/latest.json)
bench: install
	$(BIN)/python -m bench.run

## soak: a 3-minute soak of the production server (add ARGS="--database-url postgresql+psycopg://...")
soak: install
	$(BIN)/python -m bench.soak $(ARGS)

## slow-clients: normal calls while 200 slow clients trickle headers, then bodies (about a minute)
slow-clients: install
	$(BIN)/python -m bench.slow_clients $(ARGS)

clean:
	rm -rf $(VENV) tests/fhir_server/node_modules var
