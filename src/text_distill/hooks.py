"""Project hooks: the student recipe and each stage's typed settings (teacher, soft targets, Ray),
and the teacher of the logits a run reads, checked before a run starts; saved datasets logged to
MLflow.

kedro-mlflow's ``MlflowArtifactDataset`` cannot wrap a versioned dataset (it raises
``VersionAlreadyExistsError``) nor a model directory. Instead a catalog entry opts in with
``metadata: {mlflow_artifact: <artifact folder>}`` and this hook logs the exact file or directory the
dataset just wrote, versioned or not, into the run that kedro-mlflow opened.

kedro-mlflow closes the run as FAILED when the pipeline raises, but a ``kedro run`` ended by SIGTERM
(``kill``, a scheduler's timeout) or SIGINT (Ctrl-C) left it RUNNING for ever. While a pipeline runs,
this hook's handlers for both signals end every active run as KILLED, then let the signal do what it
would have done (terminate, or raise ``KeyboardInterrupt``). A run refused before its first node (a
``before_pipeline_run`` check here raising after kedro-mlflow opened the run) never reaches
kedro-mlflow's ``on_pipeline_error``, and MLflow's exit handler ended it FINISHED; this hook wraps
``before_pipeline_run`` and ``after_pipeline_run`` and ends such a run FAILED. Every run that stops
carries why as the ``text_distill.failure`` tag.

Once kedro-mlflow has registered a ``distill`` run's served model, ``ChampionHook`` gives the new
version the registry alias ``champion`` (what ``make serve`` serves) if it earns it
(``text_distill.champion``), and writes who holds the alias, and why, into the run's report.
"""

import logging
import os
import signal
import threading
from collections.abc import Callable, Generator
from pathlib import Path
from types import FrameType
from typing import Any

import mlflow
from kedro.framework.hooks import hook_impl
from kedro.io import AbstractVersionedDataset, DataCatalog
from kedro.pipeline import Pipeline
from kedro_mlflow.pipeline.pipeline_ml import PipelineML
from mlflow.entities import RunStatus
from mlflow.exceptions import MlflowException

from text_distill import champion
from text_distill.distill.config import Settings
from text_distill.distill.data.soft_targets import check_teacher, check_transfer_targets
from text_distill.distill.labelling.soft_targets_config import SoftTargetsConfig
from text_distill.distill.runtimes.ray_config import RayConfig
from text_distill.distill.training.recipe import RecipeError, StudentRecipe, moved_to_variants
from text_distill.distill.training.teacher_config import TeacherConfig
from text_distill.distill.tuning.sweep_settings import RecipeSearchConfig, TemperatureSweepConfig
from text_distill.variants import registered_variants

logger = logging.getLogger(__name__)

STUDENT_PARAMS = "params:student"
TEACHER_PARAMS = "params:teacher"
# parameters that became variants.yml keys, by the parameters they were in
MOVED_PARAMETERS = {
    TEACHER_PARAMS: ("ensemble_seeds", "ngram_members"),
    "params:temperature_sweep": ("temperatures",),
}
# each stage's settings, typed: parsed before the first node of a run that reads them
STAGE_SETTINGS: dict[str, type[Settings]] = {
    TEACHER_PARAMS: TeacherConfig,
    "params:soft_targets": SoftTargetsConfig,
    "params:ray": RayConfig,
    "params:temperature_sweep": TemperatureSweepConfig,
    "params:recipe_search": RecipeSearchConfig,
}
TEACHER_FINGERPRINT = "teacher_fingerprint"
# the soft_targets stage's outputs, every row stamped with the fingerprint of the teacher it came from
TEACHER_STAMPED: dict[str, Callable[[Any, str], None]] = {
    "soft_targets": check_teacher,
    "test_soft_targets": check_teacher,
    "transfer_targets": check_transfer_targets,
}
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
Handler = Callable[[int, FrameType | None], Any] | int | None
FAILURE_TAG = "text_distill.failure"  # why a run ended FAILED or KILLED
MAX_TAG_LENGTH = 5000  # MLflow refuses longer tag values
SUMMARY, REPORT = "distill_summary", "distill_report"  # where a run says who holds the alias


def saved_path(dataset: Any) -> Path | None:
    """The local path a dataset has just written (the new version for versioned datasets)."""
    if isinstance(dataset, AbstractVersionedDataset):
        return Path(str(dataset._get_load_path()))
    filepath = getattr(dataset, "_filepath", None)
    return Path(str(filepath)) if filepath is not None else None


def failure_reason(error: BaseException) -> str:
    """An error as the one line a tag holds: its type and the first line of its message."""
    text = str(error).strip()
    line = f"{type(error).__name__}: {text.splitlines()[0]}" if text else type(error).__name__
    return line[:MAX_TAG_LENGTH]


def end_runs(status: RunStatus, reason: str, keep: str | None = None) -> None:
    """End the active MLflow runs (innermost first) as ``status`` with ``reason`` as their failure
    tag, down to the run ``keep`` (one opened before the session, which its owner ends)."""
    while (run := mlflow.active_run()) is not None and run.info.run_id != keep:
        logger.warning("MLflow run %s ended as %s: %s", run.info.run_id, RunStatus.to_string(status), reason)
        mlflow.set_tag(FAILURE_TAG, reason)
        mlflow.end_run(RunStatus.to_string(status))


def _end_active_runs(reason: str) -> None:
    try:
        end_runs(RunStatus.KILLED, f"stopped by {reason}")
    except Exception as exc:  # the process is stopping anyway: say so and let it
        logger.warning("Could not end the MLflow run: %s", exc)


def active_run_id() -> str | None:
    run = mlflow.active_run()
    return run.info.run_id if run is not None else None


def end_runs_on_signal(signum: int, frame: FrameType | None, previous: Handler) -> None:
    """End every active MLflow run as KILLED, then give ``signum`` to the handler it had before
    (``previous``): the default one terminates the process as the signal would have."""
    try:
        _end_active_runs(signal.Signals(signum).name)
    finally:
        signal.signal(signum, previous)
        if callable(previous):
            previous(signum, frame)
        else:
            os.kill(os.getpid(), signum)


def install_signal_handlers() -> dict[int, Handler]:
    """Handlers that end the active MLflow runs on SIGTERM and SIGINT, in this process only (not in
    processes forked from it); returns the handlers they replace. None are set outside the main
    thread, nor for an ignored signal."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    pid, replaced = os.getpid(), {}
    for signum in STOP_SIGNALS:
        previous = signal.getsignal(signum)
        if previous in (signal.SIG_IGN, None):
            continue

        def handler(signum: int, frame: FrameType | None, previous: Handler = previous) -> None:
            if os.getpid() == pid:
                end_runs_on_signal(signum, frame, previous)
            else:  # a forked worker: the signal as before
                signal.signal(signum, previous)
                os.kill(os.getpid(), signum)

        replaced[signum] = previous
        signal.signal(signum, handler)
    return replaced


def restore_signal_handlers(replaced: dict[int, Handler]) -> None:
    """Put back the handlers ``install_signal_handlers`` replaced."""
    if threading.current_thread() is threading.main_thread():
        for signum, previous in replaced.items():
            signal.signal(signum, previous)


def check_kept_seed(key: str, seed: int, variants_key: str, variants: tuple[int, ...]) -> None:
    """The parameter ``key``'s seed may not also be a seed variant (the same model trained twice)."""
    if seed in variants:
        raise RecipeError(
            f"{key} {seed} is also a seed variant (variants.yml {variants_key} {list(variants)}): "
            "choose another"
        )


class RecipeCheckHook:
    """Parses every stage's settings a run reads (the student recipe, ``STAGE_SETTINGS``: teacher,
    soft targets, Ray, the sweeps), checks that neither the student's nor the teacher's own seed is also one
    of their seed variants, and that no parameter names what is now a variant, before the first
    node: a typo fails in seconds (one line naming the key), not after the teacher has fine-tuned."""

    @hook_impl
    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Pipeline, catalog: DataCatalog
    ) -> None:
        inputs = pipeline.inputs()
        for group, keys in MOVED_PARAMETERS.items():
            params = catalog.load(group) if group in inputs else {}
            for key in keys:
                if key in params:
                    raise moved_to_variants(f"{group.removeprefix('params:')}.{key}", key, "parameter")
        settings = {
            group: model.parse(catalog.load(group), group.removeprefix("params:"))
            for group, model in STAGE_SETTINGS.items()
            if group in inputs
        }
        if STUDENT_PARAMS not in inputs and TEACHER_PARAMS not in inputs:
            return
        variants = registered_variants(Path(run_params["project_path"]))
        if STUDENT_PARAMS in inputs:
            recipe = StudentRecipe.from_params(catalog.load(STUDENT_PARAMS))
            check_kept_seed(
                "student.runtime.seed", recipe.runtime.seed, "student_seeds", variants.student_seeds
            )
        if TEACHER_PARAMS in inputs:
            seed = settings[TEACHER_PARAMS].seed
            check_kept_seed("teacher.seed", seed, "teacher_seeds", variants.teacher_seeds)


class TeacherCheckHook:
    """Refuses, before the first node, teacher logits that another teacher made than the current
    one (``teacher_fingerprint``): the one place downstream of the soft_targets stage where the
    fingerprint is compared. That stage checks the store against the fingerprint where it assembles
    the targets; a run that assembles them itself is consistent by construction, so only a run that
    reads them from disk (a stage run alone, ``--from-nodes``) is checked."""

    @hook_impl
    def before_pipeline_run(self, pipeline: Pipeline, catalog: DataCatalog) -> None:
        read = [name for name in TEACHER_STAMPED if name in pipeline.inputs() and catalog.exists(name)]
        if not read or not catalog.exists(TEACHER_FINGERPRINT):
            return  # nothing read from disk, or no teacher yet (the run will say what is missing)
        fingerprint = catalog.load(TEACHER_FINGERPRINT)["fingerprint"]
        for name in read:
            TEACHER_STAMPED[name](catalog.load(name), fingerprint)


class MlflowArtifactHook:
    """Logs datasets whose catalog metadata names an ``mlflow_artifact`` folder; while a pipeline
    runs, ends the MLflow runs as KILLED on SIGTERM or SIGINT; a run refused before its first node,
    or failing after its last, ends FAILED; each with the reason as the ``text_distill.failure`` tag."""

    def __init__(self) -> None:
        self._catalog: DataCatalog | None = None
        self._replaced_handlers: dict[int, Handler] = {}
        self._run_id: str | None = None  # the run kedro-mlflow opened (or reused) for the pipeline
        self._kept_run: str | None = None  # a run active before it, which its owner ends

    @hook_impl
    def before_pipeline_run(self) -> None:
        self._replaced_handlers = install_signal_handlers()

    @hook_impl(wrapper=True, specname="before_pipeline_run")
    def fail_refused_run(self) -> Generator[None, None, None]:
        """Around every ``before_pipeline_run`` (kedro-mlflow's opens the run, the checks here may
        refuse it): a refusal ends the run FAILED, with the refusal as the failure tag."""
        self._kept_run, self._run_id = active_run_id(), None
        try:
            result = yield
        except Exception as error:
            end_runs(RunStatus.FAILED, failure_reason(error), keep=self._kept_run)
            self.after_pipeline_run()  # no on_pipeline_error follows: put the signal handlers back
            raise
        self._run_id = active_run_id()
        return result

    @hook_impl(wrapper=True, specname="after_pipeline_run")
    def fail_unfinished_run(self) -> Generator[None, None, None]:
        """Around every ``after_pipeline_run``: kedro-mlflow logging the model may still fail, and
        its run would then be ended FINISHED at exit."""
        try:
            return (yield)
        except Exception as error:
            end_runs(RunStatus.FAILED, failure_reason(error), keep=self._kept_run)
            raise

    @hook_impl
    def after_pipeline_run(self) -> None:
        restore_signal_handlers(self._replaced_handlers)
        self._replaced_handlers = {}

    @hook_impl
    def on_pipeline_error(self) -> None:
        self.after_pipeline_run()

    @hook_impl(tryfirst=True, specname="on_pipeline_error")
    def tag_failed_run(self, error: Exception) -> None:
        """Before kedro-mlflow ends the run FAILED (it does, without saying why): the error as its tag."""
        if self._run_id is None:
            return
        try:
            mlflow.MlflowClient().set_tag(self._run_id, FAILURE_TAG, failure_reason(error))
        except Exception as exc:  # the run fails anyway: its tag must not hide the error
            logger.warning("Could not tag the failed MLflow run: %s", exc)

    @hook_impl
    def after_catalog_created(self, catalog: DataCatalog) -> None:
        self._catalog = catalog

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any, node: Any) -> None:
        if self._catalog is None or mlflow.active_run() is None:
            return
        dataset = self._catalog.get(dataset_name)
        artifact_folder = (getattr(dataset, "metadata", None) or {}).get("mlflow_artifact")
        if not artifact_folder:
            return
        path = saved_path(dataset)
        if path is None or not path.exists():
            logger.warning("Dataset %s has no local file to log to MLflow", dataset_name)
            return
        if path.is_dir():
            mlflow.log_artifacts(str(path), artifact_path=f"{artifact_folder}/{path.name}")
        else:
            mlflow.log_artifact(str(path), artifact_path=artifact_folder)


def with_served_model(report: str, lines: list[str]) -> str:
    """The report with the served-model section before its first section (after the header)."""
    head, heading, rest = report.partition("\n## ")
    return head.rstrip("\n") + "\n" + "\n".join(lines) + "\n" + heading + rest


def log_saved(client: mlflow.MlflowClient, run_id: str, catalog: DataCatalog, name: str) -> None:
    """Log the file dataset ``name`` has just written to run ``run_id`` again, under its catalog
    ``mlflow_artifact`` folder (replacing the copy logged while the run ran)."""
    dataset = catalog.get(name)
    folder = (getattr(dataset, "metadata", None) or {}).get("mlflow_artifact")
    path = saved_path(dataset)
    if folder and path is not None and path.is_file():
        client.log_artifact(run_id, str(path), folder)


class ChampionHook:
    """After a ``distill`` run's served model is registered, its version takes the ``champion``
    alias if the run is a full run and its student beats the holder's on the same test split; the
    run's summary (``served_model``) and report (section "Served model") say who holds it and why,
    and are logged to the run again."""

    def __init__(self) -> None:
        self._run_id: str | None = None

    @hook_impl(trylast=True)
    def before_pipeline_run(self) -> None:
        self._run_id = active_run_id()  # the run kedro-mlflow's hook has just opened (or reused)

    @hook_impl(trylast=True)  # after kedro-mlflow's, which logs and registers the model
    def after_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Pipeline, catalog: DataCatalog
    ) -> None:
        name = (
            pipeline.log_model_kwargs.get("registered_model_name")
            if isinstance(pipeline, PipelineML)
            else None
        )
        if not name or self._run_id is None:
            return  # no registered model: not a distill run, or tracking is off
        client = mlflow.MlflowClient()
        try:
            version = champion.run_version(client, name, self._run_id)
            if version is None:
                logger.warning("MLflow run %s registered no version of %s", self._run_id, name)
                return
            summary = catalog.load(SUMMARY)
            not_full = champion.not_full_reason(catalog.load("parameters"), run_params["env"])
            decision = champion.crown(client, name, version, summary, not_full)
        except MlflowException as error:  # the model is registered; serving it by number still works
            logger.warning("Could not update %s@%s: %s", name, champion.ALIAS, failure_reason(error))
            return
        catalog.save(SUMMARY, {**summary, "served_model": champion.served_model_record(name, decision)})
        report = with_served_model(catalog.load(REPORT), champion.served_model_lines(name, decision))
        catalog.save(REPORT, report)
        for dataset in (SUMMARY, REPORT):
            log_saved(client, self._run_id, catalog, dataset)
