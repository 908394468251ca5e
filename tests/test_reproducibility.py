"""The `smoke` environment (the real packaged teacher on a 3,000-row slice): two runs with the same
parameters and seeds give the same split, the same teacher and the same student metrics; then every
recipe preset runs end to end on it through the CLI."""

import json
import os
import shutil
import subprocess
import sys

import mlflow
import pandas as pd
import pytest
import yaml

from tests.conftest import PROJECT_ROOT
from tests.test_distill_pipeline import latest, merged

ENV = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "HF_HUB_OFFLINE": "1"}


def versions(project, path: str) -> list:
    """The versions of the two smoke runs (the preset runs below add more)."""
    return sorted((project / "data" / path).glob("*/*"))[:2]


@pytest.fixture(scope="module")
def two_smoke_runs(tmp_path_factory):
    project = tmp_path_factory.mktemp("smoke-project")
    for env in ("base", "smoke"):
        shutil.copytree(PROJECT_ROOT / "conf" / env, project / "conf" / env)
    (project / "conf" / "local").mkdir()
    shutil.copy(PROJECT_ROOT / "pyproject.toml", project / "pyproject.toml")
    (project / "src").mkdir()
    command = [sys.executable, "-m", "kedro", "run", "--env", "smoke", "--pipeline", "distill"]
    for _ in range(2):
        result = subprocess.run(command, cwd=project, env=ENV, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr[-3000:]
    return project


def test_the_split_is_the_same(two_smoke_runs):
    first, second = (pd.read_parquet(p) for p in versions(two_smoke_runs, "03_primary/examples.parquet"))
    pd.testing.assert_frame_equal(first, second)
    counts = first["split"].value_counts()
    assert counts["test"] == 600 and counts["dev"] == 300 and counts["train"] > 2000


def test_the_teacher_and_student_metrics_are_the_same(two_smoke_runs):
    fingerprints = [p.read_text() for p in versions(two_smoke_runs, "06_models/teacher_fingerprint.json")]
    assert len(fingerprints) == 2 and fingerprints[0] == fingerprints[1]
    for name in ("student_scores", "student_alone_scores", "across_seeds_scores"):
        first, second = (p.read_text() for p in versions(two_smoke_runs, f"08_reporting/{name}.json"))
        assert first == second, name
    assert latest(two_smoke_runs, "08_reporting/student_scores.json")["test_rows"] == 600


# where each preset's run starts: its student (with the smoke run's teacher and cache), or its teachers
FROM_NODES = {"multi_teacher": "fine_tune_teacher_ensemble"}


@pytest.mark.parametrize("preset", ["hinton", "tang2019", "char_bilstm", "tinybert", "multi_teacher"])
def test_recipe_presets_run_end_to_end_on_smoke(two_smoke_runs, preset):
    """Each preset's file over the smoke environment (one seed per student), through the real CLI."""
    smoke = yaml.safe_load((PROJECT_ROOT / "conf" / "smoke" / "parameters.yml").read_text())
    recipe = yaml.safe_load((PROJECT_ROOT / "conf" / preset / "parameters.yml").read_text())
    env_dir = two_smoke_runs / "conf" / f"smoke_{preset}"
    env_dir.mkdir()
    params = merged(merged(smoke, recipe), {"student": {"replica_seeds": []}})
    (env_dir / "parameters.yml").write_text(yaml.safe_dump(params, allow_unicode=True))
    start = FROM_NODES.get(preset, "train_distilled_student,score_teacher")
    command = [sys.executable, "-m", "kedro", "run", "--env", f"smoke_{preset}", "--from-nodes", start]
    result = subprocess.run(command, cwd=two_smoke_runs, env=ENV, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]

    summary = json.loads((two_smoke_runs / "data/08_reporting/distill_summary.json").read_text())
    assert 0.0 <= summary["student"]["accuracy"] <= 1.0
    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{two_smoke_runs / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("text_distill")
    (run,) = client.search_runs([experiment.experiment_id], max_results=1, order_by=["start_time DESC"])
    assert run.info.status == "FINISHED"
    for key, value in recipe.get("student", {}).items():
        assert run.data.params[f"student.{key}"] == str(value)
    if preset == "multi_teacher":
        assert list(summary["teacher_members"]) == ["seed_42", "seed_7"]
        assert "teacher_seed_7_accuracy" in run.data.metrics
    if preset == "tinybert":
        log = latest(two_smoke_runs, "08_reporting/student_training_log.json")
        assert {"train_kd", "train_hidden", "train_attention"} <= set(log["history"][0])
        assert summary["student"]["params"] < summary["teacher"]["params"] / 4
