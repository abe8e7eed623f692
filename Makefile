# `make demo` and `make test` do all set-up on a fresh machine (Python >= 3.11 with venv).
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test test-all lint bench install clean

$(BIN)/gardefou: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[all,dev,bench]'
	touch $@

install: $(BIN)/gardefou

demo: install
	$(BIN)/gardefou demo $(DEMO_ARGS)

DEMO_ARGS ?=
PYTEST_ARGS ?=

test: install
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

test-all: install
	$(BIN)/python -m pytest -q -m ''

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

bench: install
	$(BIN)/python -m pytest -q -m benchmark

clean:
	rm -rf $(VENV) gardefou-demo
