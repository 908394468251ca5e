"""The whole ``distill`` pipeline on a tiny slice of the real corpus with a tiny random-init BERT,
run through a Kedro session in a copy of the project, tracked in its own MLflow store."""

import json
import os
import shutil
import subprocess
import sys

import mlflow
import pytest
import yaml
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from kedro.io import Version
from kedro_datasets.json import JSONDataset

from tests.conftest import PROJECT_ROOT
from text_distill.distill.soft_targets import SoftTargetMismatchError
from text_distill.pipeline_registry import register_pipelines

MODELS = ("teacher", "student", "student_alone")


@pytest.fixture(scope="module")
def distill_run(tmp_path_factory, tiny_encoder_dir):
    project = tmp_path_factory.mktemp("project")
    shutil.copytree(PROJECT_ROOT / "conf" / "base", project / "conf" / "base")
    (project / "conf" / "local").mkdir()
    shutil.copy(PROJECT_ROOT / "pyproject.toml", project / "pyproject.toml")
    (project / "src").mkdir()  # the package itself is installed; Kedro only checks the folder
    overrides = {
        "ingest": {"max_rows": 600, "dev_size": 100, "test_size": 150},
        "teacher": {
            "base_model": str(tiny_encoder_dir),
            "text_prefix": "",
            "max_length": 32,
            "epochs": 1,
            "batch_size": 16,
            "learning_rate": 1e-3,
            "threads": 1,
            "progress": False,
        },
        "soft_targets": {"threads": 1},
        "student": {"epochs": 2, "threads": 1, "progress": False},
        "evaluate": {"threads": 1, "speed_texts": 50, "speed_rounds": 1, "speed_min_seconds": 0.1},
    }
    (project / "conf" / "tiny").mkdir()
    (project / "conf" / "tiny" / "parameters.yml").write_text(yaml.safe_dump(overrides, allow_unicode=True))
    run_pipeline(project, "distill")
    return project


def run_pipeline(project, *names: str) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(project)  # the sqlite tracking URI is relative to the project
        bootstrap_project(project)
        with KedroSession.create(project_path=project, env="tiny") as session:
            session.run(pipeline_names=list(names))


def test_summary_has_every_model_metric_and_the_row_accounting(distill_run):
    summary = json.loads((distill_run / "data/08_reporting/distill_summary.json").read_text())
    for name in MODELS:
        assert set(summary[name]) == {"accuracy", "macro_f1", "texts_per_second", "params"}
        assert 0.0 <= summary[name]["accuracy"] <= 1.0 and summary[name]["texts_per_second"] > 0
    rows = summary["rows"]
    assert rows["rows_in"] == 100_000
    assert rows["rows_in"] == rows["kept"] + rows["quarantined"] + rows["duplicates_collapsed"]
    assert len(summary["teacher_fingerprint"]) == 64
    report = (distill_run / "data/08_reporting/distill_report.md").read_text()
    assert "| student_alone |" in report and "Per class: teacher" in report


def test_every_artifact_is_versioned(distill_run):
    for name in ("raw_corpus.parquet", "examples.parquet", "soft_targets.parquet", "student.pkl", "teacher"):
        matches = list((distill_run / "data").glob(f"*/{name}/*/{name}"))
        assert len(matches) == 1, name


def test_mlflow_run_has_params_metrics_reports_and_models(distill_run):
    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{distill_run / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("text_distill")
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.data.params["student.kd_loss"] == "mse"
    for name in MODELS:
        assert f"{name}_accuracy" in run.data.metrics and f"{name}_texts_per_second" in run.data.metrics
    logged = {
        item.path
        for folder in ("models", "reports")
        for item in client.list_artifacts(run.info.run_id, folder)
    }
    assert {"models/teacher", "models/student.pkl", "models/student_alone.pkl"} <= logged
    assert {"reports/distill_summary.json", "reports/distill_report.md"} <= logged


def test_student_stage_reads_the_cache_and_refuses_another_teachers(distill_run):
    assert "teacher" not in register_pipelines()["student"].inputs()  # no teacher, so no forward pass
    versions = lambda path: len(list((distill_run / "data" / path).iterdir()))  # noqa: E731
    students = versions("06_models/student.pkl")
    run_pipeline(distill_run, "student")
    assert versions("07_model_output/soft_targets.parquet") == 1
    assert versions("06_models/student.pkl") == students + 1

    fingerprint = JSONDataset(
        filepath=str(distill_run / "data/06_models/teacher_fingerprint.json"), version=Version(None, None)
    )
    real = fingerprint.load()
    fingerprint.save({**real, "fingerprint": "0" * 64})  # a re-trained teacher, say
    try:
        with pytest.raises(SoftTargetMismatchError, match="rerun `kedro run --pipeline soft_targets`"):
            run_pipeline(distill_run, "student")
    finally:
        fingerprint.save(real)


@pytest.mark.parametrize("preset", ["hinton", "tang2019", "char_bilstm"])
def test_recipe_presets_run_end_to_end(distill_run, preset):
    """Each preset's keys on top of the tiny environment, through the real CLI (as `--params`)."""
    overrides = yaml.safe_load((PROJECT_ROOT / "conf" / preset / "parameters.yml").read_text())["student"]
    params = ",".join(f"student.{key}={value}" for key, value in overrides.items())
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "HF_HUB_OFFLINE": "1"}
    command = [sys.executable, "-m", "kedro", "run", "--env", "tiny", "--pipelines", "student,evaluate"]
    result = subprocess.run(
        [*command, "--params", params], cwd=distill_run, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((distill_run / "data/08_reporting/distill_summary.json").read_text())
    assert 0.0 <= summary["student"]["accuracy"] <= 1.0
    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{distill_run / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("text_distill")
    (run,) = client.search_runs([experiment.experiment_id], max_results=1, order_by=["start_time DESC"])
    assert run.info.status == "FINISHED"
    for key, value in overrides.items():
        assert run.data.params[f"student.{key}"] == str(value)
