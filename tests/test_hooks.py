"""The project hooks: the student recipe checked before a run that trains students; datasets whose
metadata names an ``mlflow_artifact`` folder logged to the active run; MLflow runs ended as KILLED
when a run is stopped by a signal."""

import copy
import os
import re
import signal
import threading
from pathlib import Path

import mlflow
import pandas as pd
import pytest
import yaml
from kedro.framework.hooks import hook_impl
from kedro.framework.hooks.manager import _create_hook_manager
from kedro.io import DataCatalog, MemoryDataset, Version
from kedro.pipeline import Pipeline, node
from kedro_datasets.json import JSONDataset
from mlflow.exceptions import MlflowException

from tests.conftest import PROJECT_ROOT
from tests.mlflow_store import end_active_runs, use_sqlite_store
from text_distill.datasets.hf_model import HFModelDirectoryDataset
from text_distill.distill.data.soft_targets import SoftTargetMismatchError
from text_distill.distill.training.recipe import RecipeError
from text_distill.hooks import (
    STOP_SIGNALS,
    MlflowArtifactHook,
    RecipeCheckHook,
    TeacherCheckHook,
    install_signal_handlers,
    restore_signal_handlers,
    saved_path,
)

STUDENT = yaml.safe_load((PROJECT_ROOT / "conf" / "base" / "parameters_student.yml").read_text())["student"]


def student_params(**changes) -> dict:
    """The default student parameters with ``{"model.architecture": value}``-style changes."""
    params = copy.deepcopy(STUDENT)
    for dotted, value in changes.items():
        *parents, key = dotted.split(".")
        section = params
        for parent in parents:
            section = section[parent]
        section[key] = value
    return params


def identity(value):
    return value


TRAINS_STUDENTS = Pipeline([node(identity, "params:student", "recipe", name="train_student")])
NO_STUDENT = Pipeline([node(identity, "params:ingest", "examples", name="ingest")])
IN_PROJECT = {"project_path": str(PROJECT_ROOT)}  # kedro's run_params: its variants.yml


# ---- RecipeCheckHook -----------------------------------------------------------------------------


def test_the_default_student_recipe_passes():
    catalog = DataCatalog({"params:student": MemoryDataset(student_params())})
    RecipeCheckHook().before_pipeline_run(run_params=IN_PROJECT, pipeline=TRAINS_STUDENTS, catalog=catalog)


@pytest.mark.parametrize(
    ("changes", "names"),
    [
        ({"model.architecture": "transformerr"}, "architecture"),
        ({"objective.kd_lose": "kl"}, "kd_lose"),  # an unknown key (a typo)
        ({"optimiser.epochs": "four"}, "epochs"),
        ({"objective.alpha": 1.5}, "alpha"),
    ],
)
def test_a_bad_student_recipe_fails_before_the_run(changes, names):
    catalog = DataCatalog({"params:student": MemoryDataset(student_params(**changes))})
    with pytest.raises(RecipeError, match=names):
        RecipeCheckHook().before_pipeline_run(
            run_params=IN_PROJECT, pipeline=TRAINS_STUDENTS, catalog=catalog
        )


def test_a_pipeline_without_student_params_is_not_checked():
    catalog = DataCatalog(
        {
            "params:student": MemoryDataset(student_params(**{"model.architecture": "nope"})),
            "params:ingest": MemoryDataset({}),
        }
    )
    RecipeCheckHook().before_pipeline_run(run_params=IN_PROJECT, pipeline=NO_STUDENT, catalog=catalog)
    # params:student as an intermediate output is not the recipe of the run either
    produced = Pipeline(
        [node(identity, "params:ingest", "params:student"), node(identity, "params:student", "x")]
    )
    RecipeCheckHook().before_pipeline_run(run_params=IN_PROJECT, pipeline=produced, catalog=catalog)


TRAINS_TEACHER = Pipeline([node(identity, "params:teacher", "teacher", name="fine_tune_teacher")])
TEACHER = yaml.safe_load((PROJECT_ROOT / "conf" / "base" / "parameters_teacher.yml").read_text())["teacher"]
SWEEPS = Pipeline([node(identity, "params:temperature_sweep", "runs", name="sweep")])


@pytest.mark.parametrize(
    ("pipeline", "params", "message"),
    [
        (
            TRAINS_STUDENTS,
            student_params(**{"runtime.seed": 42}),
            "student.runtime.seed 42 is also a seed variant",
        ),
        (
            TRAINS_TEACHER,
            {**TEACHER, "seed": 7},
            "teacher.seed 7 is also a seed variant (variants.yml teacher_seeds",
        ),
        (
            TRAINS_TEACHER,
            {**TEACHER, "ensemble_seeds": [7]},
            "teacher.ensemble_seeds is no longer a parameter",
        ),
        (
            TRAINS_TEACHER,
            {**TEACHER, "ngram_members": ["tfidf_char_svm"]},
            "teacher.ngram_members is no longer a parameter: it is a variant of the graph, ngram_members in",
        ),
        (
            SWEEPS,
            {"temperatures": [1, 4], "engine": "local"},
            "temperature_sweep.temperatures is no longer a parameter: it is a variant of the graph, "
            "sweep_temperatures in",
        ),
    ],
)
def test_a_kept_seed_that_is_also_a_seed_variant_is_refused(tmp_path, pipeline, params, message):
    for env in ("base", "local"):
        (tmp_path / "conf" / env).mkdir(parents=True)
    (tmp_path / "conf" / "base" / "variants.yml").write_text(
        "student_seeds: [42, 43]\nteacher_seeds: [7]\nngram_members: []\nsweep_temperatures: []\n"
        "label_budgets: []\n"
    )
    (name,) = pipeline.inputs()
    catalog = DataCatalog({name: MemoryDataset(params)})
    with pytest.raises(RecipeError, match=re.escape(message)):
        RecipeCheckHook().before_pipeline_run(
            run_params={"project_path": str(tmp_path)}, pipeline=pipeline, catalog=catalog
        )
    if not {"ensemble_seeds", "ngram_members", "temperatures"} & set(
        params
    ):  # the same seed beside the repository's variants is fine
        RecipeCheckHook().before_pipeline_run(run_params=IN_PROJECT, pipeline=pipeline, catalog=catalog)


# ---- TeacherCheckHook ----------------------------------------------------------------------------


def test_teacher_logits_made_in_the_run_or_absent_are_not_checked():
    foreign = pd.DataFrame({"teacher_fingerprint": ["0" * 64]})
    catalog = DataCatalog(
        {
            "soft_targets": MemoryDataset(foreign),  # an older run's, by another teacher
            "teacher_fingerprint": MemoryDataset({"fingerprint": "f" * 64}),
            "examples": MemoryDataset(foreign),
        }
    )
    # the run assembles the targets itself: the soft_targets stage checked the store
    assembled = Pipeline([node(identity, "examples", "soft_targets"), node(identity, "soft_targets", "x")])
    TeacherCheckHook().before_pipeline_run(pipeline=assembled, catalog=catalog)
    reads = Pipeline([node(identity, "soft_targets", "x")])
    no_teacher = DataCatalog({"soft_targets": MemoryDataset(foreign)})  # the run will say what is missing
    TeacherCheckHook().before_pipeline_run(pipeline=reads, catalog=no_teacher)
    with pytest.raises(SoftTargetMismatchError, match="made by teacher \\['000000000000'\\]"):
        TeacherCheckHook().before_pipeline_run(pipeline=reads, catalog=catalog)


# ---- saved_path ----------------------------------------------------------------------------------


class Model:
    def __init__(self, value: int = 1) -> None:
        self.value = value

    def save_pretrained(self, directory) -> None:
        Path(directory).mkdir(exist_ok=True)
        (Path(directory) / "config.json").write_text(str(self.value))


def test_saved_path_is_the_new_version_of_a_versioned_dataset(tmp_path):
    dataset = JSONDataset(
        filepath=str(tmp_path / "report.json"), version=Version(None, "2024-01-01T00.00.00.000Z")
    )
    dataset.save({"a": 1})
    assert saved_path(dataset) == tmp_path / "report.json" / "2024-01-01T00.00.00.000Z" / "report.json"
    assert saved_path(dataset).is_file()
    later = JSONDataset(
        filepath=str(tmp_path / "report.json"), version=Version(None, "2024-01-02T00.00.00.000Z")
    )
    later.save({"a": 2})
    assert saved_path(later) == tmp_path / "report.json" / "2024-01-02T00.00.00.000Z" / "report.json"


def test_saved_path_of_an_unversioned_or_in_memory_dataset(tmp_path):
    assert saved_path(JSONDataset(filepath=str(tmp_path / "report.json"))) == tmp_path / "report.json"
    model = HFModelDirectoryDataset(
        str(tmp_path / "teacher"), f"{__name__}.Model", version=Version(None, None)
    )
    model.save(Model())
    assert saved_path(model).parent.parent == tmp_path / "teacher" and saved_path(model).is_dir()
    assert saved_path(MemoryDataset({"a": 1})) is None


# ---- MlflowArtifactHook --------------------------------------------------------------------------


@pytest.fixture
def experiment_id(tmp_path, monkeypatch):
    experiment_id = use_sqlite_store(tmp_path, monkeypatch)
    yield experiment_id
    end_active_runs()


def artifact_catalog(directory: Path) -> DataCatalog:
    version = Version(None, "2024-01-01T00.00.00.000Z")
    return DataCatalog(
        {
            "report": JSONDataset(
                filepath=str(directory / "report.json"),
                version=version,
                metadata={"mlflow_artifact": "reports"},
            ),
            "plain": JSONDataset(
                filepath=str(directory / "plain.json"), metadata={"kedro-viz": {"layer": "reporting"}}
            ),
            "teacher": HFModelDirectoryDataset(
                str(directory / "teacher"),
                f"{__name__}.Model",
                version=version,
                metadata={"mlflow_artifact": "models"},
            ),
            "in_memory": MemoryDataset(metadata={"mlflow_artifact": "memory"}),
        }
    )


def save_with_hook(hook: MlflowArtifactHook, catalog: DataCatalog, name: str, data) -> None:
    catalog.save(name, data)
    hook.after_dataset_saved(dataset_name=name, data=data, node=None)


def artifact_paths(run_id: str, path: str | None = None) -> list[str]:
    client = mlflow.MlflowClient()
    found = []
    for entry in client.list_artifacts(run_id, path):
        found.extend(artifact_paths(run_id, entry.path) if entry.is_dir else [entry.path])
    return sorted(found)


def test_a_dataset_with_mlflow_artifact_is_logged_to_the_active_run(tmp_path, experiment_id):
    catalog, hook = artifact_catalog(tmp_path / "data"), MlflowArtifactHook()
    hook.after_catalog_created(catalog=catalog)
    with mlflow.start_run() as run:
        save_with_hook(hook, catalog, "report", {"accuracy": 0.9})
        save_with_hook(hook, catalog, "teacher", Model(7))
    # the directory as saved: its files and their record (text_distill_files.json)
    assert artifact_paths(run.info.run_id) == [
        "models/teacher/config.json",
        "models/teacher/text_distill_files.json",
        "reports/report.json",
    ]
    local = mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path="reports/report.json")
    assert (
        Path(local).read_text()
        == (tmp_path / "data/report.json/2024-01-01T00.00.00.000Z/report.json").read_text()
    )


def test_datasets_without_mlflow_artifact_or_a_file_log_nothing(tmp_path, experiment_id):
    catalog, hook = artifact_catalog(tmp_path / "data"), MlflowArtifactHook()
    hook.after_catalog_created(catalog=catalog)
    with mlflow.start_run() as run:
        save_with_hook(hook, catalog, "plain", {"a": 1})
        save_with_hook(hook, catalog, "in_memory", {"a": 1})  # nothing on disk: a warning only
    assert artifact_paths(run.info.run_id) == []


def test_nothing_is_logged_without_a_run_or_a_catalog(tmp_path, experiment_id):
    catalog = artifact_catalog(tmp_path / "data")
    save_with_hook(MlflowArtifactHook(), catalog, "report", {"a": 1})  # no catalog seen yet: no error
    hook = MlflowArtifactHook()
    hook.after_catalog_created(catalog=catalog)
    save_with_hook(hook, catalog, "teacher", Model())  # no active run
    assert mlflow.active_run() is None
    assert mlflow.search_runs([experiment_id], output_format="list") == []


# ---- signal handlers -----------------------------------------------------------------------------


@pytest.fixture
def previous_handlers():
    """A recording Python handler on SIGTERM (SIGINT keeps pytest's), both put back afterwards."""
    saved = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}
    received = []
    signal.signal(signal.SIGTERM, lambda signum, frame: received.append(signum))
    yield received
    for signum, handler in saved.items():
        signal.signal(signum, handler)


def test_sigterm_ends_every_active_run_as_killed_then_reaches_the_previous_handler(
    experiment_id, previous_handlers
):
    recorder = signal.getsignal(signal.SIGTERM)
    replaced = install_signal_handlers()
    try:
        assert set(replaced) == set(STOP_SIGNALS) and replaced[signal.SIGTERM] is recorder
        assert signal.getsignal(signal.SIGTERM) is not recorder
        with mlflow.start_run() as parent, mlflow.start_run(nested=True) as child:
            os.kill(os.getpid(), signal.SIGTERM)
            assert mlflow.active_run() is None
        assert previous_handlers == [signal.SIGTERM]
        assert signal.getsignal(signal.SIGTERM) is recorder  # handed back: a second signal goes there
    finally:
        restore_signal_handlers(replaced)
    client = mlflow.MlflowClient()
    assert [client.get_run(run.info.run_id).info.status for run in (parent, child)] == ["KILLED", "KILLED"]


def test_the_hook_installs_the_handlers_for_the_run_only(previous_handlers):
    before = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}
    hook = MlflowArtifactHook()
    hook.before_pipeline_run()
    try:
        assert all(signal.getsignal(signum) is not before[signum] for signum in STOP_SIGNALS)
    finally:
        hook.on_pipeline_error()
    assert {signum: signal.getsignal(signum) for signum in STOP_SIGNALS} == before
    hook.before_pipeline_run()
    hook.after_pipeline_run()
    assert {signum: signal.getsignal(signum) for signum in STOP_SIGNALS} == before


def test_an_ignored_signal_stays_ignored(previous_handlers):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    replaced = install_signal_handlers()
    try:
        assert signal.SIGTERM not in replaced and signal.getsignal(signal.SIGTERM) is signal.SIG_IGN
    finally:
        restore_signal_handlers(replaced)


def test_no_handlers_are_installed_outside_the_main_thread(previous_handlers):
    before = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}
    result = []
    thread = threading.Thread(target=lambda: result.append(install_signal_handlers()))
    thread.start()
    thread.join()
    assert result == [{}]
    assert {signum: signal.getsignal(signum) for signum in STOP_SIGNALS} == before


# ---- how a stopped run ends in MLflow (issue 25, item 5) -----------------------------------------

FAILURE_TAG = "text_distill.failure"  # why a run ended FAILED or KILLED (text_distill.hooks)


class OpensTheRun:
    """kedro-mlflow's part: opens the run before the pipeline, ends it after (FAILED on an error)."""

    @hook_impl
    def before_pipeline_run(self) -> None:
        mlflow.start_run(run_name="distill")

    @hook_impl
    def after_pipeline_run(self) -> None:
        mlflow.end_run()

    @hook_impl
    def on_pipeline_error(self) -> None:
        while mlflow.active_run():
            mlflow.end_run("FAILED")


class LogsTheModelAndFails(OpensTheRun):
    @hook_impl
    def after_pipeline_run(self) -> None:
        raise MlflowException("could not log the model")


def hook_manager(*first_hooks):
    """The project's hooks, then ``first_hooks`` registered as kedro-mlflow's are: after them, so
    that they are called first."""
    manager = _create_hook_manager()
    for hook in (RecipeCheckHook(), TeacherCheckHook(), MlflowArtifactHook(), *first_hooks):
        manager.register(hook)
    return manager


def the_run(experiment_id) -> mlflow.entities.Run:
    assert mlflow.active_run() is None  # nothing left for MLflow's exit handler to end FINISHED
    (run,) = mlflow.search_runs([experiment_id], output_format="list")
    return run


def test_a_run_refused_before_its_first_node_ends_failed_with_the_reason(experiment_id, previous_handlers):
    before = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}
    hooks = hook_manager(OpensTheRun())
    catalog = DataCatalog({"params:student": MemoryDataset(student_params(**{"objective.no_such_key": 1}))})
    with pytest.raises(RecipeError, match="no_such_key"):
        hooks.hook.before_pipeline_run(run_params=IN_PROJECT, pipeline=TRAINS_STUDENTS, catalog=catalog)
    run = the_run(experiment_id)
    assert run.info.status == "FAILED"
    assert (
        run.data.tags[FAILURE_TAG].startswith("RecipeError: ") and "no_such_key" in run.data.tags[FAILURE_TAG]
    )
    assert {signum: signal.getsignal(signum) for signum in STOP_SIGNALS} == before  # handlers put back


def test_a_run_opened_before_the_session_is_left_to_its_owner(experiment_id, previous_handlers):
    catalog = DataCatalog({"params:student": MemoryDataset(student_params(**{"objective.no_such_key": 1}))})
    with mlflow.start_run() as own:
        with pytest.raises(RecipeError):
            hook_manager().hook.before_pipeline_run(
                run_params=IN_PROJECT, pipeline=TRAINS_STUDENTS, catalog=catalog
            )
        assert mlflow.active_run().info.run_id == own.info.run_id


def test_a_run_failing_in_a_node_ends_failed_with_the_error_as_its_tag(experiment_id, previous_handlers):
    hooks = hook_manager(OpensTheRun())
    catalog = DataCatalog({"params:student": MemoryDataset(student_params())})
    run_params = {**IN_PROJECT}
    hooks.hook.before_pipeline_run(run_params=run_params, pipeline=TRAINS_STUDENTS, catalog=catalog)
    error = ValueError("the corpus has no rows\nsecond line")
    hooks.hook.on_pipeline_error(
        error=error, run_params=run_params, pipeline=TRAINS_STUDENTS, catalog=catalog
    )
    run = the_run(experiment_id)
    assert (run.info.status, run.data.tags[FAILURE_TAG]) == ("FAILED", "ValueError: the corpus has no rows")


def test_a_run_whose_model_logging_fails_after_the_pipeline_ends_failed(experiment_id, previous_handlers):
    hooks = hook_manager(LogsTheModelAndFails())
    catalog = DataCatalog({"params:student": MemoryDataset(student_params())})
    hooks.hook.before_pipeline_run(run_params=IN_PROJECT, pipeline=TRAINS_STUDENTS, catalog=catalog)
    with pytest.raises(MlflowException):
        hooks.hook.after_pipeline_run(
            run_params=IN_PROJECT, run_result={}, pipeline=TRAINS_STUDENTS, catalog=catalog
        )
    run = the_run(experiment_id)
    assert (run.info.status, run.data.tags[FAILURE_TAG]) == (
        "FAILED",
        "MlflowException: could not log the model",
    )


def test_a_run_that_finishes_has_no_failure_tag(experiment_id, previous_handlers):
    hooks = hook_manager(OpensTheRun())
    catalog = DataCatalog({"params:student": MemoryDataset(student_params())})
    hooks.hook.before_pipeline_run(run_params=IN_PROJECT, pipeline=TRAINS_STUDENTS, catalog=catalog)
    hooks.hook.after_pipeline_run(
        run_params=IN_PROJECT, run_result={}, pipeline=TRAINS_STUDENTS, catalog=catalog
    )
    run = the_run(experiment_id)
    assert run.info.status == "FINISHED" and FAILURE_TAG not in run.data.tags


def test_a_run_stopped_by_a_signal_is_killed_with_the_signal_as_its_tag(experiment_id, previous_handlers):
    replaced = install_signal_handlers()
    try:
        with mlflow.start_run():
            os.kill(os.getpid(), signal.SIGTERM)
    finally:
        restore_signal_handlers(replaced)
    run = the_run(experiment_id)
    assert (run.info.status, run.data.tags[FAILURE_TAG]) == ("KILLED", "stopped by SIGTERM")
