"""Project hooks: the student recipe, and the teacher of the logits a run reads, checked before a run
starts; saved datasets logged to MLflow.

kedro-mlflow's ``MlflowArtifactDataset`` cannot wrap a versioned dataset (it raises
``VersionAlreadyExistsError``) nor a model directory. Instead a catalog entry opts in with
``metadata: {mlflow_artifact: <artifact folder>}`` and this hook logs the exact file or directory the
dataset just wrote, versioned or not, into the run that kedro-mlflow opened.

kedro-mlflow closes the run as FAILED when the pipeline raises, but a ``kedro run`` ended by SIGTERM
(``kill``, a scheduler's timeout) or SIGINT (Ctrl-C) left it RUNNING for ever. While a pipeline runs,
this hook's handlers for both signals end every active run as KILLED, then let the signal do what it
would have done (terminate, or raise ``KeyboardInterrupt``).
"""

import logging
import os
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import mlflow
from kedro.framework.hooks import hook_impl
from kedro.io import AbstractVersionedDataset, DataCatalog
from kedro.pipeline import Pipeline
from mlflow.entities import RunStatus

from text_distill.distill.recipe import RecipeError, StudentRecipe, moved_to_variants
from text_distill.distill.soft_targets import check_teacher, check_transfer_targets
from text_distill.variants import registered_variants

logger = logging.getLogger(__name__)

STUDENT_PARAMS = "params:student"
TEACHER_PARAMS = "params:teacher"
# parameters that became variants.yml keys, by the parameters they were in
MOVED_PARAMETERS = {
    TEACHER_PARAMS: ("ensemble_seeds", "ngram_members"),
    "params:temperature_sweep": ("temperatures",),
}
TEACHER_FINGERPRINT = "teacher_fingerprint"
# the soft_targets stage's outputs, every row stamped with the fingerprint of the teacher it came from
TEACHER_STAMPED: dict[str, Callable[[Any, str], None]] = {
    "soft_targets": check_teacher,
    "transfer_targets": check_transfer_targets,
}
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
Handler = Callable[[int, FrameType | None], Any] | int | None


def saved_path(dataset: Any) -> Path | None:
    """The local path a dataset has just written (the new version for versioned datasets)."""
    if isinstance(dataset, AbstractVersionedDataset):
        return Path(str(dataset._get_load_path()))
    filepath = getattr(dataset, "_filepath", None)
    return Path(str(filepath)) if filepath is not None else None


def _end_active_runs(reason: str) -> None:
    try:
        while (run := mlflow.active_run()) is not None:
            logger.warning("MLflow run %s ended as KILLED: %s", run.info.run_id, reason)
            mlflow.end_run(RunStatus.to_string(RunStatus.KILLED))
    except Exception as exc:  # the process is stopping anyway: say so and let it
        logger.warning("Could not end the MLflow run: %s", exc)


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
    """Checks the whole student recipe, that neither the student's nor the teacher's own seed is
    also one of their seed variants, and that no parameter names what is now a variant, before the
    first node of a run that reads them: a typo fails in seconds (one line), not after the teacher
    has fine-tuned."""

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
        if STUDENT_PARAMS not in inputs and TEACHER_PARAMS not in inputs:
            return
        variants = registered_variants(Path(run_params["project_path"]))
        if STUDENT_PARAMS in inputs:
            recipe = StudentRecipe.from_params(catalog.load(STUDENT_PARAMS))
            check_kept_seed(
                "student.runtime.seed", recipe.runtime.seed, "student_seeds", variants.student_seeds
            )
        if TEACHER_PARAMS in inputs:
            teacher = catalog.load(TEACHER_PARAMS)
            check_kept_seed("teacher.seed", int(teacher["seed"]), "teacher_seeds", variants.teacher_seeds)


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
    runs, ends the MLflow runs as KILLED on SIGTERM or SIGINT."""

    def __init__(self) -> None:
        self._catalog: DataCatalog | None = None
        self._replaced_handlers: dict[int, Handler] = {}

    @hook_impl
    def before_pipeline_run(self) -> None:
        self._replaced_handlers = install_signal_handlers()

    @hook_impl
    def after_pipeline_run(self) -> None:
        restore_signal_handlers(self._replaced_handlers)
        self._replaced_handlers = {}

    @hook_impl
    def on_pipeline_error(self) -> None:
        self.after_pipeline_run()

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
