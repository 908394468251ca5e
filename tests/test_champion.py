"""``make serve`` serves the best full run, not whatever ran last (issue 25, item 4): after kedro-mlflow
registers a ``distill`` run's model, the version takes the registry alias ``champion`` only when the
run is a full run and its student beats the holder's on the same test split; the run's report and
summary say who holds the alias and why. A local sqlite MLflow store, the project's hooks in Kedro's
order, and a stand-in for kedro-mlflow's hook that opens the run and registers a version."""

import json
from pathlib import Path

import mlflow
import pytest
from kedro.framework.hooks import hook_impl
from kedro.framework.hooks.manager import _create_hook_manager
from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import Pipeline, node
from kedro_datasets.json import JSONDataset
from kedro_datasets.text import TextDataset
from kedro_mlflow.pipeline import pipeline_ml_factory

from tests.conftest import PROJECT_ROOT
from tests.mlflow_store import end_active_runs, use_sqlite_store
from text_distill.champion import ALIAS, not_full_reason
from text_distill.settings import HOOKS

NAME = "text_distill_student"
FULL = {"recipe": None, "ingest": {"max_rows": None, "label_budget": None}, "teacher": {"train_rows": None}}
SMOKE = {**FULL, "ingest": {"max_rows": 3000, "label_budget": None}, "teacher": {"train_rows": 2000}}
SPLIT = {"rows": 10000, "sha256": "a" * 64}
REPORT = "# Distillation report\n\nTest rows: 10000.\n\n## Against the best baseline\n\nrows\n"


def identity(value):
    return value


def predict(texts, student):
    return texts


# the shape of the distill pipeline as kedro-mlflow sees it: a PipelineML whose model is registered
DISTILL = pipeline_ml_factory(
    training=Pipeline([node(identity, "examples", "student", name="train")]),
    inference=Pipeline([node(predict, ["texts_to_predict", "student"], "predictions", name="predict")]),
    input_name="texts_to_predict",
    log_model_kwargs={"registered_model_name": NAME},
)


class RegistersTheModel:
    """kedro-mlflow's part: opens the run before the pipeline; after it, logs and registers the
    model (a version of ``NAME`` for the run) and ends the run."""

    def __init__(self, artifacts: Path) -> None:
        self.artifacts = artifacts

    @hook_impl
    def before_pipeline_run(self) -> None:
        mlflow.start_run(run_name="distill")

    @hook_impl
    def after_pipeline_run(self) -> None:
        client, run_id = mlflow.MlflowClient(), mlflow.active_run().info.run_id
        if not client.search_registered_models(f"name='{NAME}'"):
            client.create_registered_model(NAME)
        client.create_model_version(NAME, (self.artifacts / run_id).as_uri(), run_id=run_id)
        mlflow.end_run()


@pytest.fixture
def experiment_id(tmp_path, monkeypatch):
    experiment_id = use_sqlite_store(tmp_path, monkeypatch)
    yield experiment_id
    end_active_runs()


def summary(accuracy: float, split: dict | None = None) -> dict:
    """A distill summary with the distilled student's mean test accuracy over seeds ``accuracy``."""
    student = {"accuracy": {"mean": accuracy, "std": 0.001}, "macro_f1": {"mean": accuracy - 0.01}}
    return {
        "across_seeds": {"student": student},
        "student": {"texts_per_second": 30000.0},
        "teacher": {"accuracy": 0.93},
        "test_split": split or SPLIT,
    }


def distill(tmp_path: Path, accuracy: float, params: dict = FULL, env: str = "local", split=None) -> dict:
    """One distill run through the project's hooks (Kedro registers them, then the plugins' hooks:
    pluggy calls the last registered first); returns the run's summary as written after it."""
    reporting = tmp_path / "data"
    reporting.mkdir(exist_ok=True)
    catalog = DataCatalog(
        {
            "distill_summary": JSONDataset(
                filepath=str(reporting / "distill_summary.json"), metadata={"mlflow_artifact": "reports"}
            ),
            "distill_report": TextDataset(
                filepath=str(reporting / "distill_report.md"), metadata={"mlflow_artifact": "reports"}
            ),
            "parameters": MemoryDataset(params),
        }
    )
    catalog.save("distill_summary", summary(accuracy, split))
    catalog.save("distill_report", REPORT)
    manager = _create_hook_manager()
    for hook in (*type(HOOKS)(type(hook)() for hook in HOOKS), RegistersTheModel(tmp_path / "models")):
        manager.register(hook)
    run_params = {"env": env, "project_path": str(PROJECT_ROOT)}
    manager.hook.before_pipeline_run(run_params=run_params, pipeline=DISTILL, catalog=catalog)
    manager.hook.after_pipeline_run(run_params=run_params, run_result={}, pipeline=DISTILL, catalog=catalog)
    return catalog.load("distill_summary") | {"report": catalog.load("distill_report")}


def champion() -> tuple[str, dict[str, str]]:
    version = mlflow.MlflowClient().get_model_version_by_alias(NAME, ALIAS)
    return str(version.version), version.tags


def test_a_full_run_takes_the_alias_with_its_scores_as_version_tags(experiment_id, tmp_path):
    run = distill(tmp_path, 0.919)
    version, tags = champion()
    assert version == "1"
    assert tags["student_accuracy_mean"] == "0.919" and tags["teacher_accuracy"] == "0.93"
    assert (tags["test_rows"], tags["test_split_sha256"], tags["full_run"]) == ("10000", "a" * 64, "true")
    assert run["served_model"] == {
        "model": NAME,
        "alias": ALIAS,
        "holder": "1",
        "this_run_version": "1",
        "took_alias": True,
        "reason": "no version held it, and this is a full run",
    }
    assert "## Served model" in run["report"].split("## Against the best baseline")[0]
    assert "This run's version 1 now holds `champion`" in run["report"]
    # the run's MLflow copy of the report says so too
    (logged,) = mlflow.search_runs([experiment_id], output_format="list")
    path = mlflow.artifacts.download_artifacts(
        run_id=logged.info.run_id, artifact_path="reports/distill_report.md", dst_path=str(tmp_path / "dl")
    )
    assert Path(path).read_text() == run["report"]


def test_a_worse_full_run_leaves_the_alias_and_a_better_one_takes_it(experiment_id, tmp_path):
    distill(tmp_path, 0.919)
    worse = distill(tmp_path, 0.915)
    assert champion()[0] == "1" and worse["served_model"]["took_alias"] is False
    assert (
        "Version 1 holds `champion`; this run's version 2 does not take it: version 1's distilled "
        "student's test accuracy 0.9190 (mean over seeds) is at least this run's 0.9150" in worse["report"]
    )
    assert "`make serve VERSION=2` serves this run's" in worse["report"]
    assert distill(tmp_path, 0.919)["served_model"]["holder"] == "1"  # a tie keeps the holder
    better = distill(tmp_path, 0.925)
    assert champion()[0] == "4" and better["served_model"]["took_alias"] is True
    assert "beats version 1's 0.9190 on the same test split" in better["served_model"]["reason"]


def test_a_smoke_run_never_takes_the_alias(experiment_id, tmp_path):
    first = distill(tmp_path, 0.69, SMOKE, env="smoke")
    assert first["served_model"]["holder"] is None
    assert (
        "No version holds `champion` yet: this run's version 1 does not take it, this run is not a full "
        "run: a smoke slice (--env smoke), a sample of the corpus (ingest.max_rows=3000)" in first["report"]
    )
    distill(tmp_path, 0.919)
    smoke = distill(tmp_path, 0.99, SMOKE, env="smoke", split={"rows": 600, "sha256": "b" * 64})
    assert champion()[0] == "2" and smoke["served_model"]["took_alias"] is False
    assert mlflow.MlflowClient().get_model_version(NAME, "3").tags["full_run"] == "false"


def test_a_full_run_on_another_test_split_is_not_compared(experiment_id, tmp_path):
    distill(tmp_path, 0.919)
    other = distill(tmp_path, 0.99, split={"rows": 10000, "sha256": "c" * 64})
    assert champion()[0] == "1"
    assert "version 1 was scored on another test split" in other["served_model"]["reason"]


def test_a_run_that_registers_no_model_is_left_alone(experiment_id, tmp_path):
    hook = type(HOOKS[-1])()
    with mlflow.start_run():
        hook.before_pipeline_run()
    catalog = DataCatalog({"distill_summary": MemoryDataset(summary(0.99))})
    ingest = Pipeline([node(identity, "corpus", "examples")])
    hook.after_pipeline_run(run_params={"env": "local"}, pipeline=ingest, catalog=catalog)
    assert mlflow.MlflowClient().search_registered_models() == []


@pytest.mark.parametrize(
    ("params", "env", "reason"),
    [
        (FULL, "local", None),
        (FULL, "cluster", None),  # an environment that moves the data is no slice
        (FULL, "smoke", "a smoke slice (--env smoke)"),
        ({**FULL, "ingest": {"max_rows": 600}}, "local", "a sample of the corpus (ingest.max_rows=600)"),
        (
            {**FULL, "ingest": {"label_budget": 5000}},
            "local",
            "a label-budget run (ingest.label_budget=5000)",
        ),
        ({**FULL, "recipe": "hinton"}, "local", "a recipe trial (recipe=hinton)"),
        (
            {**FULL, "teacher": {"train_rows": 2000}},
            "local",
            "a teacher fine-tuned on part of train (teacher.train_rows=2000)",
        ),
    ],
)
def test_what_a_full_run_is(params, env, reason):
    assert not_full_reason(params, env) == reason


def test_the_project_parameters_are_a_full_run_and_the_smoke_ones_are_not():
    import yaml

    base = {}
    for path in sorted((PROJECT_ROOT / "conf" / "base").glob("parameters_*.yml")):
        base.update(yaml.safe_load(path.read_text()) or {})
    assert not_full_reason(base, "local") is None
    smoke = yaml.safe_load((PROJECT_ROOT / "conf" / "smoke" / "parameters.yml").read_text())
    merged = {**base, "ingest": {**base["ingest"], **smoke["ingest"]}}
    assert "ingest.max_rows=3000" in not_full_reason(merged, "smoke")
    assert json.dumps(base["ingest"]["label_budget"]) == "null"
