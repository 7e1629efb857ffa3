# Perfect Catch — `make demo` and `make test` work on a machine with only Python 3.11+ and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install test lint demo simulate ui clean benchmarks

$(STAMP): pyproject.toml dbt_project/dbt_project.yml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv
	$(BIN)/uv pip install --python $(BIN)/python -e '.[dev]' \
		|| $(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/dbt parse --project-dir dbt_project --profiles-dir dbt_project --quiet
	@# Bytecode for every installed module: each Dagster run, dbt build and test subprocess then
	@# starts in seconds, also where PYTHONDONTWRITEBYTECODE keeps Python from writing its own.
	$(BIN)/python -m compileall -q -j 0 $(VENV)/lib perfect_catch mcp_server > /dev/null || true
	@touch $(STAMP)

install: $(STAMP) ## create .venv and install the project with its dev tools

# Test processes (pytest-xdist workers), each with its own embedded PostgreSQL; whole test
# modules go to one worker (loadscope), so a module's shared warehouse is built once.
TEST_WORKERS ?= 2
LINTED := perfect_catch mcp_server tests

test: install lint ## lint, then run the whole test suite in parallel (benchmarks excluded)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadscope

lint: install ## ruff's lint rules and formatting, checked (nothing is rewritten)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)

demo: install ## embedded PostgreSQL + simulators + a demo tenant + the Dagster UI
	$(BIN)/perfect-catch demo

simulate: install
	$(BIN)/perfect-catch simulate --port 8765 --size medium

benchmarks: install ## run every benchmark in tests/benchmarks (tens of minutes; prints figures)
	@for bench in tests/benchmarks/bench_*.py; do \
		echo "== $$bench"; PERFECT_CATCH_ENV_FILE=/dev/null $(BIN)/python $$bench || exit 1; \
	done

clean:
	rm -rf $(VENV) .perfect_catch .pytest_cache
