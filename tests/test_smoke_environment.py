"""The `smoke` environment: the real packaged teacher on a 3,000-row slice of the corpus, through the
CLI. A whole `distill` run, then the same parameters again up to the teacher's labelling: the same
split, the same fine-tuned teacher and the same soft targets, every logit from the store. (A student
at the same seed on the same inputs trains the same weights: tests/distill/test_train.py; each recipe
file's run: tests/test_recipe_runs.py.)
"""

import json
import os
import shutil
import subprocess
import sys

import pandas as pd
import pytest

from tests.conftest import PROJECT_ROOT
from tests.test_distill_pipeline import latest

pytestmark = pytest.mark.integration

ENV = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "HF_HUB_OFFLINE": "1"}


def versions(project, path: str) -> list:
    """The versions the two smoke runs wrote (the preset runs add later ones)."""
    return sorted((project / "data" / path).glob("*/*"))[:2]


@pytest.fixture(scope="module")
def two_smoke_runs(tmp_path_factory):
    project = tmp_path_factory.mktemp("smoke-project")
    for env in ("base", "smoke"):
        shutil.copytree(PROJECT_ROOT / "conf" / env, project / "conf" / env)
    (project / "conf" / "local").mkdir()
    shutil.copy(PROJECT_ROOT / "pyproject.toml", project / "pyproject.toml")
    (project / "src").mkdir()
    # the teacher on 600 of smoke's 2,000 rows, the students' 2 epochs as given (no min_steps) and
    # short speed rounds: determinism, not accuracy
    command = [sys.executable, "-m", "kedro", "run", "--env", "smoke", "--params"]
    command += ["teacher.train_rows=600,student.optimiser.min_steps=null,evaluate.speed_min_seconds=0.1"]
    # the second run stops where the students would start: what it must reproduce is their inputs
    # (the stages, not `distill`: kedro-mlflow refuses to cut the served model's pipeline short)
    again = ["--pipelines", "ingest,segment,baselines,teacher,augment,soft_targets,evaluate"]
    again += ["--to-nodes", "soft_targets.assemble_soft_targets,evaluate.assemble_test_targets"]
    for extra in (["--pipeline", "distill"], again):
        result = subprocess.run(command + extra, cwd=project, env=ENV, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr[-3000:]
    return project


def test_the_split_is_the_same(two_smoke_runs):
    first, second = (pd.read_parquet(p) for p in versions(two_smoke_runs, "03_primary/examples.parquet"))
    pd.testing.assert_frame_equal(first, second)
    counts = first["split"].value_counts()
    assert counts["test"] == 600 and counts["dev"] == 300 and counts["train"] > 2000


def test_the_teacher_and_the_students_inputs_are_the_same(two_smoke_runs):
    fingerprints = [p.read_text() for p in versions(two_smoke_runs, "06_models/teacher_fingerprint.json")]
    assert len(fingerprints) == 2 and fingerprints[0] == fingerprints[1]
    for name in ("soft_targets", "test_soft_targets"):
        first, second = (
            pd.read_parquet(p) for p in versions(two_smoke_runs, f"07_model_output/{name}.parquet")
        )
        pd.testing.assert_frame_equal(first, second)
    # the first run went on to the students and their evaluation
    assert latest(two_smoke_runs, "08_reporting/student_scores.json")["test_rows"] == 600
    assert len(list((two_smoke_runs / "data/08_reporting/student_scores.json").glob("*/*"))) == 1


def test_the_second_run_takes_every_logit_from_the_store(two_smoke_runs):
    """The transfer set (train, dev, unlabelled rows; 2,400 of them) and the test rows (600, labelled
    by evaluate) go through the same store: the second run scores neither."""
    for report, rows in (("teacher_labelling", 2300), ("test_labelling", 550)):
        first, second = (
            json.loads(p.read_text()) for p in versions(two_smoke_runs, f"08_reporting/{report}.json")
        )
        assert first["teacher_forward_texts"] == first["transfer_rows"] - first["repeated_texts"] > rows
        assert second["teacher_forward_texts"] == 0 and second["store_hits"] == second["transfer_rows"]
