# Two commands for a newcomer: `make run` and `make test`. Both install what they need first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# The address `make run` listens on (HOST is `make load`'s target URL). `make run MEM0=emulator`
# serves with Mem0 Platform through the local emulator instead of the embedded engine. Off loopback
# `serve` wants ELEVENLABS_TOOL_KEY, or ALLOW_OPEN_RETRIEVE=1 to serve /retrieve to the network open.
BIND ?= 127.0.0.1
PORT ?= 8080

.PHONY: install install-dev run test lint typecheck bench bench-recall bench-recall-latency load clean clean-data

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Installs the project with the embedded local memory and the S3 adapter into .venv/. The stamp
# files skip pip's (slow) re-check until pyproject.toml changes.
install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --progress-bar off -e '.[local,aws]'
	@touch $@
	@echo "installed: $(BIN)/agentic-memory"

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --progress-bar off -e '.[local,aws,dev]'
	@touch $@ $(VENV)/.installed

run: install
	$(BIN)/agentic-memory serve --host $(BIND) --port $(PORT) $(if $(filter emulator,$(MEM0)),--mem0-emulator) $(if $(ALLOW_OPEN_RETRIEVE),--allow-open-retrieve)

CODE := $(wildcard shared services local_runtime devtools tests infra loadtests)

lint: install-dev
	$(BIN)/ruff check $(CODE)
	$(BIN)/ruff format --check $(CODE)

typecheck: install-dev
	$(BIN)/mypy

# The console's browser tests drive Debian's Chromium (tests/console); installed with apt-get when missing.
.PHONY: system-deps
system-deps:
	@command -v chromium >/dev/null 2>&1 || { \
		SUDO=$$([ "$$(id -u)" -eq 0 ] || echo sudo); \
		echo "installing Debian's chromium for the browser tests (apt-get)"; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null; }

test: install-dev system-deps lint typecheck
	$(BIN)/pytest

# A bounded headless Locust run with the latency gate: locally against the Mem0 emulator, or
# against a deployed stack with HOST=<API URL>. LOAD_DURATION, LOAD_USERS, LOAD_SPAWN_RATE tune it.
load: install-dev
	$(BIN)/python loadtests/run_load.py $(if $(HOST),--host '$(HOST)') $(if $(STACK),--stack '$(STACK)')

bench: install
	$(BIN)/python loadtests/benchmark.py

# Evidence recall of the search_memory tool against BM25 over the raw turns at equal characters, in one
# run on the shipped memoir set (loadtests/README.md, "Recall"). RECALL_ARGS=--quick for one caller.
bench-recall: install
	$(BIN)/python -m loadtests.recall $(RECALL_ARGS)

# search_memory's p50/p95 for a caller with 50 hour-long calls, index in S3 (moto), Mem0 down or slow.
bench-recall-latency: install
	$(BIN)/python -m loadtests.recall_latency $(RECALL_LATENCY_ARGS)

# `make clean` removes the venv and the caches, never the local data (callers' calls and memories):
# that is `make clean-data` (or `make clean DATA=1`), which says what it deletes and refuses while a
# runtime or an operator command holds the folder.
DATA_HOME := $(abspath $(or $(AGENTIC_MEMORY_HOME),.agentic-memory))

clean: $(if $(DATA),clean-data)
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
	@[ -n "$(DATA)" ] || [ ! -d "$(DATA_HOME)" ] || echo "kept the local data in $(DATA_HOME) (make clean-data removes it)"

clean-data:
	@if [ ! -e "$(DATA_HOME)" ]; then echo "no local data in $(DATA_HOME)"; exit 0; fi; \
	if [ -e "$(DATA_HOME)/runtime.lock" ] && ! python3 -c 'import fcntl,os,sys; fcntl.flock(os.open(sys.argv[1], os.O_RDONLY), fcntl.LOCK_SH | fcntl.LOCK_NB)' "$(DATA_HOME)/runtime.lock" 2>/dev/null; then \
		echo "$(DATA_HOME) is in use (a runtime or an operator command holds it): stop it first" >&2; exit 1; fi; \
	echo "removing the local data in $(DATA_HOME): archived calls, memories, briefs, dead letters, dev keys"; \
	rm -rf "$(DATA_HOME)"

# Infrastructure (Pulumi, see docs/deployment.md).
.PHONY: package infra-test stack-check
ARCH ?= arm64

# The Lambda zip for ARCH (arm64 or x86_64) in build/lambda/: what `pulumi up` builds (or reuses) itself.
package: $(BIN)/python
	$(BIN)/python -m infra.packaging build --arch $(ARCH)

# Every Pulumi.<stack>.yaml here against what any deployment must hold (docs/deployment.md §12).
stack-check: install-dev
	$(BIN)/python -m infra.stack_checks

# The Pulumi program alone: lint, types and its offline tests (every stack, the artifact build).
infra-test: install-dev
	$(BIN)/ruff check infra tests/infra
	$(BIN)/ruff format --check infra tests/infra
	$(BIN)/mypy infra
	$(BIN)/pytest tests/infra
