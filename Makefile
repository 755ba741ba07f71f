# The test command of the README: installs what is needed, then runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: test install system-deps lint demo

test: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/pytest

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
