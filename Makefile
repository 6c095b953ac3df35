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

.PHONY: audit test gate params predictions versions uci-predictions vendor-vega example-uci bench clean-venv

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip==26.3"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

audit: $(STAMP)
	dvc repro

test: $(STAMP)
	python -m pytest

# The release gate: exit 1 when the audit broke a rule of conf/gate/ against the previous audited version (the gate
# stage's result: reports/gate.md, reports/gate.junit.xml); 2 when the audit is missing or out of date.
gate: $(STAMP)
	blindspot gate

# Recompose params.yaml from conf/ (what `dvc exp run` does): make params ARGS="model=v2"
params: $(STAMP)
	python scripts/compose_params.py $(ARGS)

# Retrain the two bundled model versions (rewrites data/raw/predictions/*.json).
predictions: $(STAMP)
	python scripts/make_predictions.py

# Re-derive v3 (a fix) and v4 (a regression) from v2 by flipping chosen predictions
# (rewrites data/raw/predictions/v3.json and v4.json; what changes: scripts/make_versions.py).
versions: $(STAMP)
	python scripts/make_versions.py

# Re-make the UCI sentences' predictions (rewrites data/raw/predictions/uci_sentences.*).
uci-predictions: $(STAMP)
	python scripts/make_uci_predictions.py

# Re-vendor Vega, Vega-Lite and vega-embed into .dvc/plots/offline.html (the offline page of `dvc plots`).
vendor-vega: $(STAMP)
	python scripts/vendor_vega.py

# The whole pipeline on the UCI sentences in a scratch copy (`dvc repro` there, with
# model=uci_sentences; this workspace's outputs are left alone), then its briefs to
# reports/examples/sentences_uci/, the Markdown brief's figures beside it in plots/.
EXAMPLE_UCI := reports/examples/sentences_uci
example-uci: $(STAMP)
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	cp -R conf scripts src dvc.yaml .dvcignore "$$tmp"/; \
	mkdir -p "$$tmp/data/raw/predictions" "$$tmp/baseline"; cp baseline/README.md "$$tmp/baseline/"; \
	cp data/raw/predictions/uci_sentences.jsonl "$$tmp/data/raw/predictions/"; \
	(cd "$$tmp" && python scripts/compose_params.py model=uci_sentences \
	  && dvc init -q --no-scm && PYTHONPATH="$$tmp/src" dvc repro -q); \
	rm -rf $(EXAMPLE_UCI); mkdir -p $(EXAMPLE_UCI); \
	cp "$$tmp/reports/blind_spot_brief.html" $(EXAMPLE_UCI)/; \
	sed 's#](\.\./plots/#](plots/#g' "$$tmp/reports/blind_spot_brief.md" > $(EXAMPLE_UCI)/blind_spot_brief.md; \
	cp -R "$$tmp/plots" $(EXAMPLE_UCI)/; find $(EXAMPLE_UCI)/plots -type f ! -name '*.png' -delete; \
	echo "example-uci: briefs in $(EXAMPLE_UCI)/"

# Benchmarks (minutes; not part of the tests): tables in bench/README.md.
bench: $(STAMP)
	python -m pip install --quiet -c constraints.txt -e '.[dev,bench]'
	python bench/run_scale.py
	python bench/run_scale.py --sizes 1000000 --no-bundled --reference eb494d8 --own-workspace --repeats 3 --out bench/results/scale_reference.json
	python bench/allocator.py
	python bench/run_scale.py --sizes 1000000 2000000 3000000 --no-bundled --out bench/results/scale_slope.json
	python bench/run_dask_scale.py --sizes 1000000 3000000 10000000 --out bench/results/scale_dask.json
	python bench/run_dask_scale.py --sizes 1000000 --workers 1 2 --out bench/results/scale_dask_workers.json
	python bench/compare_classes.py
	python bench/peers.py
	python bench/report.py

clean-venv:
	rm -rf $(VENV)
