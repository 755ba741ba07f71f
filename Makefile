# The test command of the README: installs what is needed, then runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Two workers: most of the suite waits on brokers, databases and browsers, so two cores run
# two tests at once in about two thirds of the serial time. Each test has its own mosquitto,
# port and PostgreSQL database, so the workers share nothing.
TEST_WORKERS ?= 2

.PHONY: test install system-deps lint demo

test: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal

install: system-deps $(BIN)/eldercare

$(BIN)/eldercare: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

system-deps:
	scripts/install-system-deps

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

demo: install
	$(BIN)/eldercare demo
