# Two commands for a newcomer: `make run` and `make test`. Both install what they need first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8080

.PHONY: install install-dev run test lint typecheck unit contract integration bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Installs the project with the embedded local memory and the S3 adapter into .venv/.
install: $(BIN)/python
	$(BIN)/pip install --quiet --progress-bar off -e '.[local,aws]'
	@echo "installed: $(BIN)/agentic-memory"

install-dev: $(BIN)/python
	$(BIN)/pip install --quiet --progress-bar off -e '.[local,aws,dev]'

run: install
	$(BIN)/agentic-memory serve --host $(HOST) --port $(PORT)

CODE := $(wildcard shared services tests infra loadtests)

lint: install-dev
	$(BIN)/ruff check $(CODE)
	$(BIN)/ruff format --check $(CODE)

typecheck: install-dev
	$(BIN)/mypy

test: install-dev lint typecheck
	$(BIN)/pytest

bench: install
	$(BIN)/python loadtests/benchmark.py

clean:
	rm -rf $(VENV) .agentic-memory .pytest_cache .mypy_cache .ruff_cache
