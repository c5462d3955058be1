# The two set-up commands: `make demo` and `make test`. Both create .venv and install first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-app: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed-app

demo: $(VENV)/.installed-app
	$(BIN)/reviews demo

test: $(VENV)/.installed-test
	$(BIN)/ruff check .
	# One worker more than the cores (tests/conftest.py; at most 4), each test module on one worker so its fixtures
	# are built once.
	$(BIN)/python -m pytest -n auto --maxprocesses 4 --dist loadscope

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .

bench: $(VENV)/.installed-test
	$(BIN)/python bench/crawl.py

clean:
	rm -rf $(VENV) data reports .pytest_cache
