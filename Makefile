# Every target makes its own virtual environment (.venv) and installs what it needs into it,
# so a fresh clone needs only python3, pip and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
PYTEST_ARGS ?=
BENCH_ARGS ?=

.PHONY: test thorough demo lint bench clean venv

venv: $(BIN)/python

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# one stamp per set of extras, redone when the package metadata changes
$(VENV)/.stamp-%: setup.cfg pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -e '.[$(subst +,$(comma),$*)]'
	touch $@

comma := ,

# the dev extra: everything the full suite needs (the browser tests use the system's Chromium)
test: $(VENV)/.stamp-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# the property tests with many more generated graphs (about 100,000; minutes to an hour)
thorough: $(VENV)/.stamp-dev
	HYPOTHESIS_PROFILE=thorough $(BIN)/python -m pytest tests/test_properties.py $(PYTEST_ARGS)

demo: $(VENV)/.stamp-demo+viz
	$(BIN)/python demos/main.py

lint: $(VENV)/.stamp-dev
	$(BIN)/ruff check tracegrad tests demos benchmarks
	$(BIN)/mypy

bench: $(VENV)/.stamp-demo+viz+fast
	$(PIP) install --quiet micrograd==0.1.0
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .hypothesis .mypy_cache .ruff_cache out
