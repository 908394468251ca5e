"""MLflow runs as datasets: a sweep's entries written as nested runs under the active run (and a JSON
copy); past finished runs read back as a table, newest first."""

import json

import mlflow
import pandas as pd
import pytest
from kedro.io import DatasetError
from tests.mlflow_store import end_active_runs, use_sqlite_store

from text_distill.datasets.mlflow_runs import MlflowNestedRunsDataset, MlflowRecentRunsDataset

SWEEP = {
    "T=1": {
        "params": {"temperature": 1.0, "kd_loss": "kl"},
        "metrics": {"test_macro_f1": 0.81},
        "history": [
            {"epoch": 1, "loss": 0.9, "dev_macro_f1": 0.7},
            {"epoch": 2, "loss": 0.5, "dev_macro_f1": 0.8},
        ],
    },
    "T=4": {
        "params": {"temperature": 4.0, "kd_loss": "kl"},
        "metrics": {"test_macro_f1": 0.84},
        "history": [{"epoch": 1, "loss": 1.1, "dev_macro_f1": 0.75}],
    },
}


@pytest.fixture
def experiment_id(tmp_path, monkeypatch):
    experiment_id = use_sqlite_store(tmp_path, monkeypatch)
    yield experiment_id
    end_active_runs()


def test_nested_runs_round_trip_through_the_json_file(tmp_path, experiment_id):
    dataset = MlflowNestedRunsDataset(str(tmp_path / "reporting" / "sweep_runs.json"))
    assert not dataset.exists()
    with mlflow.start_run():
        dataset.save(SWEEP)
    assert dataset.exists()
    assert dataset.load() == SWEEP
    assert json.loads((tmp_path / "reporting" / "sweep_runs.json").read_text()) == SWEEP
    assert dataset._describe() == {"filepath": str(tmp_path / "reporting" / "sweep_runs.json")}


def test_each_entry_is_one_nested_run_under_the_active_run(tmp_path, experiment_id):
    client = mlflow.MlflowClient()
    with mlflow.start_run(run_name="sweep") as parent:
        MlflowNestedRunsDataset(str(tmp_path / "sweep_runs.json")).save(SWEEP)
        assert mlflow.active_run().info.run_id == parent.info.run_id  # the parent is active again
    children = client.search_runs(
        [experiment_id],
        f"tags.mlflow.parentRunId = '{parent.info.run_id}'",
        order_by=["attributes.start_time"],
    )
    assert [run.info.run_name for run in children] == ["T=1", "T=4"]
    assert all(run.info.status == "FINISHED" for run in children)
    first, second = children
    assert first.data.params == {"temperature": "1.0", "kd_loss": "kl"}
    assert second.data.params == {"temperature": "4.0", "kd_loss": "kl"}
    assert first.data.metrics == {"test_macro_f1": 0.81, "loss": 0.5, "dev_macro_f1": 0.8}  # last steps
    assert second.data.metrics == {"test_macro_f1": 0.84, "loss": 1.1, "dev_macro_f1": 0.75}
    history = client.get_metric_history(first.info.run_id, "loss")
    assert [(m.step, m.value) for m in sorted(history, key=lambda m: m.step)] == [(1, 0.9), (2, 0.5)]
    assert client.get_metric_history(first.info.run_id, "epoch") == []  # the epoch is the step
    assert client.get_run(parent.info.run_id).data.params == {}  # nothing logged on the parent itself


def test_an_entry_without_history_or_params_is_still_a_run(tmp_path, experiment_id):
    with mlflow.start_run() as parent:
        MlflowNestedRunsDataset(str(tmp_path / "runs.json")).save(
            {"bare": {}, "scored": {"metrics": {"a": 1}}}
        )
    children = mlflow.search_runs(
        [experiment_id], f"tags.mlflow.parentRunId = '{parent.info.run_id}'", output_format="list"
    )
    assert sorted((run.info.run_name, run.data.metrics.get("a")) for run in children) == [
        ("bare", None),
        ("scored", 1.0),
    ]


def finished_run(client, experiment_id, name, start_time, status="FINISHED", **metrics):
    run = client.create_run(experiment_id, start_time=start_time, run_name=name)
    client.log_param(run.info.run_id, "name", name)
    for key, value in metrics.items():
        client.log_metric(run.info.run_id, key, value)
    client.set_terminated(run.info.run_id, status=status, end_time=start_time + 1)
    return run.info.run_id


@pytest.fixture
def past_runs(experiment_id):
    """Four finished runs started at 1, 3, 2 and 4 seconds, one failed, one still running."""
    client = mlflow.MlflowClient()
    for name, start in (("a", 1000), ("c", 3000), ("b", 2000), ("d", 4000)):
        finished_run(client, experiment_id, name, start, macro_f1=start / 10000)
    finished_run(client, experiment_id, "failed", 5000, status="FAILED")
    client.create_run(experiment_id, start_time=6000, run_name="running")
    return experiment_id


def test_recent_runs_are_the_finished_runs_newest_first(past_runs):
    runs = MlflowRecentRunsDataset(experiment="tests").load()
    assert runs["run_name"].tolist() == ["d", "c", "b", "a"]
    assert runs["params.name"].tolist() == ["d", "c", "b", "a"]
    assert runs["metrics.macro_f1"].tolist() == [0.4, 0.3, 0.2, 0.1]
    assert {"run_id", "start_time"} <= set(runs.columns)
    assert MlflowRecentRunsDataset(experiment="tests", max_results=2).load()["run_name"].tolist() == [
        "d",
        "c",
    ]


def test_recent_runs_default_to_the_active_runs_experiment_and_leave_it_out(past_runs):
    mlflow.set_experiment("other")  # the active run's experiment decides, not the active experiment
    with mlflow.start_run(experiment_id=past_runs) as active:
        runs = MlflowRecentRunsDataset().load()
    assert runs["run_name"].tolist() == ["d", "c", "b", "a"]
    assert active.info.run_id not in runs["run_id"].tolist()


def test_the_active_run_is_left_out_even_once_finished(past_runs):
    client = mlflow.MlflowClient()
    with mlflow.start_run(experiment_id=past_runs, run_name="me") as active:
        client.set_terminated(active.info.run_id, status="FINISHED", end_time=10_000_000)
        runs = MlflowRecentRunsDataset(experiment="tests").load()
    assert "me" not in runs["run_name"].tolist() and len(runs) == 4


def test_recent_runs_of_an_empty_experiment_is_an_empty_table(experiment_id):
    assert MlflowRecentRunsDataset(experiment="tests").load().empty


def test_recent_runs_need_an_experiment(experiment_id):
    with pytest.raises(DatasetError, match="no MLflow experiment named 'missing'"):
        MlflowRecentRunsDataset(experiment="missing").load()
    with pytest.raises(DatasetError, match="no experiment given and no active MLflow run"):
        MlflowRecentRunsDataset().load()


def test_recent_runs_are_read_only():
    dataset = MlflowRecentRunsDataset(experiment="tests", max_results="50")
    assert dataset._describe() == {"experiment": "tests", "max_results": 50}
    with pytest.raises(DatasetError, match="read-only"):
        dataset.save(pd.DataFrame({"run_id": ["x"]}))
