"""Two `smoke` runs (the real packaged teacher on a 3,000-row slice) with the same parameters and seeds
give the same split, the same teacher and the same student metrics."""

import os
import shutil
import subprocess
import sys

import pandas as pd
import pytest

from tests.conftest import PROJECT_ROOT
from tests.test_distill_pipeline import latest


def versions(project, path: str) -> list:
    return sorted((project / "data" / path).glob("*/*"))


@pytest.fixture(scope="module")
def two_smoke_runs(tmp_path_factory):
    project = tmp_path_factory.mktemp("smoke-project")
    for env in ("base", "smoke"):
        shutil.copytree(PROJECT_ROOT / "conf" / env, project / "conf" / env)
    (project / "conf" / "local").mkdir()
    shutil.copy(PROJECT_ROOT / "pyproject.toml", project / "pyproject.toml")
    (project / "src").mkdir()
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "HF_HUB_OFFLINE": "1"}
    command = [sys.executable, "-m", "kedro", "run", "--env", "smoke", "--pipeline", "distill"]
    for _ in range(2):
        result = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
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
