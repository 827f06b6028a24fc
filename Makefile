# notecheck: `make setup` once (idempotent), then `make run` or `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.setup-stamp
export PYSPARK_PYTHON := $(abspath $(BIN)/python)
export PYSPARK_DRIVER_PYTHON := $(abspath $(BIN)/python)

.PHONY: setup run test lint format bench train corpus eval clean

setup: $(STAMP)

# Rebuilt only when the lock file or the project metadata changes.
$(STAMP): requirements.lock pyproject.toml scripts/setup-system.sh
	bash scripts/setup-system.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

run: setup
	$(BIN)/notecheck demo

test: setup
	$(BIN)/ruff check notecheck api tests benchmarks
	$(BIN)/ruff format --check notecheck api tests benchmarks
	$(BIN)/python -m pytest -q -p no:cacheprovider

lint: setup
	$(BIN)/ruff check notecheck api tests benchmarks
	$(BIN)/ruff format --check notecheck api tests benchmarks

format: setup
	$(BIN)/ruff format notecheck api tests benchmarks
	$(BIN)/ruff check --fix notecheck api tests benchmarks

corpus: setup
	$(BIN)/python -m notecheck.corpus build

train: setup
	$(BIN)/python -m notecheck.training

eval: setup
	$(BIN)/notecheck eval data/test.jsonl

bench: setup
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf build dist *.egg-info .pytest_cache .ruff_cache
