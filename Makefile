# creditnode: one Makefile for setup, code generation, lint, tests, benchmarks and the local node.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres
ONLY   ?=
PYTEST := $(BIN)/python -m pytest

.PHONY: install protos protos-check lint k8s-check test test-unit test-sqlite test-postgres reliability run bench clean

install: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip==25.3"
	$(BIN)/python -m pip install --quiet -c requirements.lock -e ".[dev]"
	touch $(STAMP)

protos: $(STAMP)
	$(BIN)/python tools/gen_protos.py gen

protos-check: $(STAMP)
	$(BIN)/buf lint protos
	rm -rf var/gen-check && $(BIN)/python tools/gen_protos.py var/gen-check
	diff -r -q -x __pycache__ gen var/gen-check || (echo "generated code in gen/ is stale: run 'make protos'" >&2; exit 1)
	@if git rev-parse -q --verify HEAD~1 >/dev/null && git cat-file -e HEAD~1:protos/buf.yaml 2>/dev/null; then \
		$(BIN)/buf breaking protos --against '.git#ref=HEAD~1,subdir=protos'; fi

lint: $(STAMP) protos-check k8s-check
	$(BIN)/ruff format --check services tests bench tools creditctl
	$(BIN)/ruff check services tests bench tools creditctl
	$(BIN)/mypy services creditctl
	$(BIN)/lint-imports

# Render every k8s overlay, validate it strictly against the schemas, run the policy check; hadolint the Dockerfile.
k8s-check: $(STAMP)
	tools/k8s_check.sh

# promtool (alert-rule unit tests) comes from Debian's prometheus package.
PROMTOOL_STAMP := $(VENV)/.installed-promtool
$(PROMTOOL_STAMP): $(STAMP)
	command -v promtool >/dev/null || (apt-get update -qq && apt-get install -y -qq --no-install-recommends prometheus)
	touch $@

test-unit: $(STAMP) $(PROMTOOL_STAMP)
	$(PYTEST) tests/unit

test-sqlite: $(STAMP)
	$(PYTEST) tests/integration tests/e2e

# Integration and e2e tests again on PostgreSQL, a fresh database per test (created and dropped by the tests).
test-postgres: $(STAMP)
	CREDITNODE_TEST_PG_URL="$(PG_URL)" $(PYTEST) tests/integration tests/e2e

test: lint test-unit test-sqlite

# Faults, load and hostile input (tests/reliability, bounded for CI): prints a table, adds reliability.* figures to
# var/bench.json and rewrites docs/reliability.md. `make bench ONLY=reliability` runs the full version.
reliability: $(STAMP)
	$(BIN)/python -m bench.reliability --scale ci

run: $(STAMP)
	$(BIN)/python tools/run_node.py

$(VENV)/.installed-bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -c requirements.lock -e ".[dev,bench]"
	touch $@

bench: $(VENV)/.installed-bench
	$(BIN)/python -m bench $(if $(ONLY),--only $(ONLY),)

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
