# The two commands a newcomer needs: `make demo` and `make test`. Each installs what it needs into .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## The main job: database up (embedded unless DATABASE_URL is set), migrate, seed the demo, then the whole
## system in a browser at http://127.0.0.1:8080/demo until Ctrl-C (docs/demo.md).
demo: $(STAMP)
	$(BIN)/bongpheak demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy jobs_core media conversations bots dialer bongpheak

## Lint, the migration check and the whole test suite on a fresh database of its own.
test: lint
	$(BIN)/python -m tests.check_migrations
	$(BIN)/pytest -q

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
