# The two commands of the README: `make run` and `make test`. Everything else supports them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
NODE_STAMP := tests/fhir_server/node_modules/.installed

.PHONY: run test install check lint typecheck test-only bench soak slow-clients clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

$(NODE_STAMP): tests/fhir_server/package.json tests/fhir_server/package-lock.json
	cd tests/fhir_server && npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

install: $(STAMP) $(NODE_STAMP)

## run: install, then start the service on http://127.0.0.1:8080 with a local FHIR server and demo patients
run: install
	$(BIN)/python -m cds_service.demo

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
