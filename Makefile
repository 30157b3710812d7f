# Lieux Communs — everyday commands. `make demo` and `make test` are all a newcomer needs.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# PostgreSQL used by the second pass of `make test` (the test database is created and dropped by pytest).
TEST_POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/postgres
# The demo and the tests run with a throwaway secret key; production sets SECRET_KEY.
export LIEUX_INSECURE_DEV_KEY := 1

.PHONY: install demo serve test test-sqlite test-postgres lint messages bench clean

install: $(STAMP) ## virtualenv, dependencies, compiled translations
	@$(BIN)/pybabel compile -d lieux/locale -D django

$(STAMP): pyproject.toml
	@echo "→ Creating the virtual environment in $(VENV)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --upgrade pip==25.3
	@echo "→ Installing Lieux Communs and its pinned dependencies"
	@$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: install ## the platform on its embedded SQLite with the demo network, on http://127.0.0.1:8000
	@$(BIN)/lieux migrate --no-input -v 0
	@$(BIN)/lieux demo
	@echo "→ Lieux Communs: http://127.0.0.1:8000/  (Ctrl-C to stop)"
	@$(BIN)/lieux serve --bind 127.0.0.1:8000 --workers 2

test: install ## the whole suite: SQLite pass, then PostgreSQL pass
	@$(MAKE) --no-print-directory test-sqlite
	@$(MAKE) --no-print-directory test-postgres

test-sqlite: install
	@echo "→ Test suite on SQLite (with the browser tests)"
	@$(BIN)/pytest -q

test-postgres: install
	@if $(BIN)/python scripts/postgres_ready.py "$(TEST_POSTGRES_URL)"; then \
		echo "→ Test suite on PostgreSQL"; \
		DATABASE_URL="$(TEST_POSTGRES_URL)" $(BIN)/pytest -q -m "not browser"; \
	elif [ -n "$$LIEUX_REQUIRE_POSTGRES" ]; then \
		echo "✗ PostgreSQL is required (LIEUX_REQUIRE_POSTGRES) but unreachable at $(TEST_POSTGRES_URL)"; exit 1; \
	else \
		echo "!! SKIPPED: PostgreSQL pass — no server at $(TEST_POSTGRES_URL)."; \
		echo "!! The concurrency and constraint tests on PostgreSQL did not run. Set TEST_POSTGRES_URL to run them."; \
	fi

lint: install ## ruff, mypy, the layer contract, and no missing migration
	$(BIN)/ruff check lieux tests bench
	$(BIN)/ruff format --check lieux tests bench
	$(BIN)/mypy lieux
	$(BIN)/lint-imports
	$(BIN)/lieux makemigrations --check --dry-run

messages: install ## refresh the French catalogue after changing user-facing strings
	cd lieux && ../$(BIN)/lieux makemessages -l fr --no-obsolete --no-location

bench: install ## benchmarks on PostgreSQL (BENCH_DATABASE_URL), figures printed and in bench/results/
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var/*.sqlite3* test-artifacts
