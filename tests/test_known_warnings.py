"""A newcomer's first command shows the stages' progress and the project's own messages, not the
libraries' warnings about each other (issue 25, item 3): what Kedro's CLI does before a run (the
project's settings, kedro-mlflow's commands, a session, its config and catalog, the pipelines) warns
nothing the project can silence, and the silenced warnings still show for anyone else's code."""

import json
import os
import subprocess
import sys
import warnings

import pytest
from omegaconf import OmegaConf

from tests.conftest import bare_project
from text_distill.known_warnings import ignore_known_warnings

# what `kedro run --pipeline ingest` printed before the project's first line (issue 25)
SILENCED = (
    "register_new_resolver() is deprecated",  # omegaconf 2.4 about Kedro's and kedro-mlflow's calls
    "Add type hints to the `predict` method",  # mlflow about kedro-mlflow's KedroPipelineModel
    "An input example was not provided",  # mlflow logging the served model (tests/test_served_model.py)
)

# Kedro's CLI in a fresh interpreter (the warnings of imports are shown once per process), every
# warning recorded each time it is raised; the `catalog describe-datasets` command bootstraps the
# project, loads kedro-mlflow's commands, creates a session and its context, loads the config and
# the catalog and registers the pipelines, as `kedro run` does before its first node
CLI_WARNINGS = """
import json, sys, warnings
from pathlib import Path

from kedro.framework.cli.cli import KedroCLI  # Kedro's logging, which captures warnings, set up here

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    cli = KedroCLI(project_path=Path.cwd())
    cli.main(["catalog", "describe-datasets", "-p", "ingest"], standalone_mode=False)
Path(sys.argv[1]).write_text(json.dumps([f"{w.category.__name__}: {w.message}" for w in caught]))
"""


@pytest.fixture
def project(tmp_path):
    return bare_project(tmp_path)


def test_starting_the_project_warns_nothing_the_project_can_silence(project, tmp_path):
    record = tmp_path / "warnings.json"
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "HF_HUB_OFFLINE": "1"}
    result = subprocess.run(
        [sys.executable, "-c", CLI_WARNINGS, str(record)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "corpus_source" in result.stdout  # the command did describe the catalog
    caught = json.loads(record.read_text())
    assert [line for line in caught if any(text in line for text in SILENCED)] == []


def test_the_resolver_deprecation_still_shows_for_other_callers():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ignore_known_warnings()
        OmegaConf.register_new_resolver("text_distill_test", lambda: 1, replace=True)
    OmegaConf.clear_resolver("text_distill_test")
    assert any(SILENCED[0] in str(warning.message) for warning in caught)
