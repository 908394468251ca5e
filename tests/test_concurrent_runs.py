"""Two runs at once in one project (issue 25, item 6, which held when tried by hand): two `kedro run`
processes started together on an empty soft-target store both finish, the store holds each text
once (a partition is named by its first key and moved into place whole, so two runs scoring the same
texts write the same partition, and the last move wins), and a third run finds every text there
and scores none. In a copy of the tiny project of the ``distill_run`` fixture."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.integration

STORE = Path("data/07_model_output/soft_target_store")
LABELLING = Path("data/08_reporting/teacher_labelling.json")


def start_run(project: Path) -> subprocess.Popen:
    """``kedro run --pipelines soft_targets`` (the stage that fills the store) in ``project``."""
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "HF_HUB_OFFLINE": "1", "COLUMNS": "200"}
    command = [sys.executable, "-m", "kedro", "run", "--env", "tiny", "--pipelines", "soft_targets"]
    return subprocess.Popen(
        command, cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def finish(runs: list[subprocess.Popen]) -> None:
    try:
        outputs = [run.communicate(timeout=600)[0] for run in runs]
    finally:
        for run in runs:
            if run.poll() is None:
                run.kill()
    assert [run.returncode for run in runs] == [0] * len(runs), "\n\n".join(out[-3000:] for out in outputs)


def newest_labelling(project: Path) -> dict:
    return json.loads(sorted((project / LABELLING).glob("*/*"))[-1].read_text())


def test_two_runs_at_once_fill_the_store_once_and_a_third_scores_nothing(distill_run, tmp_path):
    project = tmp_path / "project"
    shutil.copytree(distill_run, project)
    shutil.rmtree(project / STORE)

    finish([start_run(project), start_run(project)])
    store = project / STORE
    partitions = sorted(store.rglob("*.parquet"))
    keys = pd.concat([pd.read_parquet(path, columns=["key"]) for path in partitions])["key"]
    assert len(keys) > 0 and keys.is_unique, keys[keys.duplicated()].head().tolist()
    # nothing half-written or moved aside was left behind
    assert not list(store.rglob("*.damaged")) and not list(store.parent.glob(".*partial*"))

    finish([start_run(project)])
    third = newest_labelling(project)
    assert third["teacher_forward_texts"] == 0 and third["new_partitions"] == 0
    assert third["store_hits"] == len(keys) == third["transfer_rows"] - third["repeated_texts"]
    assert sorted(store.rglob("*.parquet")) == partitions
