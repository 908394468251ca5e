"""A throwaway sqlite MLflow tracking store for one test: a copy of a store whose tables were created
once per test process (creating them takes seconds; copying the file, milliseconds)."""

import atexit
import functools
import shutil
import tempfile
from pathlib import Path

import mlflow
import pytest
from mlflow.tracking import fluent
from mlflow.tracking._tracking_service import utils as tracking_utils


@functools.cache
def _template() -> Path:
    directory = Path(tempfile.mkdtemp(prefix="mlflow-template-"))
    atexit.register(shutil.rmtree, directory, True)
    database = directory / "mlflow.db"
    mlflow.MlflowClient(tracking_uri=f"sqlite:///{database}").search_experiments()  # creates the tables
    return database


def use_sqlite_store(directory: Path, monkeypatch: pytest.MonkeyPatch, experiment: str = "tests") -> str:
    """Point MLflow at ``sqlite:///<directory>/mlflow.db`` with a new active experiment whose artifacts
    go under ``directory``; ``monkeypatch`` restores the previous tracking URI and experiment. Returns
    the experiment's id."""
    end_active_runs()  # in the store they belong to, before switching stores
    database = directory / "mlflow.db"
    shutil.copy(_template(), database)
    uri = f"sqlite:///{database}"
    monkeypatch.chdir(directory)  # anything relative (./mlruns) lands here, not in the project
    monkeypatch.setattr(tracking_utils, "_tracking_uri", tracking_utils._tracking_uri)
    monkeypatch.setattr(fluent, "_active_experiment_id", fluent._active_experiment_id)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    mlflow.set_tracking_uri(uri)
    experiment_id = mlflow.create_experiment(experiment, artifact_location=(directory / "artifacts").as_uri())
    monkeypatch.setenv("MLFLOW_EXPERIMENT_ID", experiment_id)
    mlflow.set_experiment(experiment_id=experiment_id)
    return experiment_id


def end_active_runs() -> None:
    while mlflow.active_run() is not None:
        mlflow.end_run()
