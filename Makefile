# Two commands do all the set-up on a fresh machine with Python 3.11+ and pip:
#   make audit   create .venv if missing, install pinned versions, run `dvc repro`
#   make test    the same set-up, then the test suite
# constraints.txt pins every package, so a fresh install resolves the same versions.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export PATH := $(abspath $(BIN)):$(PATH)
export DVC_NO_ANALYTICS := 1

.PHONY: audit test params predictions bench clean-venv

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip==26.3"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

audit: $(STAMP)
	dvc repro

test: $(STAMP)
	python -m pytest

# Recompose params.yaml from conf/ (what `dvc exp run` does): make params ARGS="model=v2"
params: $(STAMP)
	python scripts/compose_params.py $(ARGS)

# Retrain the two bundled model versions (rewrites data/raw/predictions/*.json).
predictions: $(STAMP)
	python scripts/make_predictions.py

# Benchmarks (minutes; not part of the tests): tables in bench/README.md.
bench: $(STAMP)
	python -m pip install --quiet -c constraints.txt -e '.[dev,bench]'
	python bench/run_scale.py
	python bench/peers.py
	python bench/report.py

clean-venv:
	rm -rf $(VENV)
