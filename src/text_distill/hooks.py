"""Log saved datasets to the active MLflow run.

kedro-mlflow's ``MlflowArtifactDataset`` cannot wrap a versioned dataset (it raises
``VersionAlreadyExistsError``) nor a model directory. Instead a catalog entry opts in with
``metadata: {mlflow_artifact: <artifact folder>}`` and this hook logs the exact file or directory the
dataset just wrote, versioned or not, into the run that kedro-mlflow opened.
"""

import logging
from pathlib import Path
from typing import Any

import mlflow
from kedro.framework.hooks import hook_impl
from kedro.io import AbstractVersionedDataset, DataCatalog

logger = logging.getLogger(__name__)


def saved_path(dataset: Any) -> Path | None:
    """The local path a dataset has just written (the new version for versioned datasets)."""
    if isinstance(dataset, AbstractVersionedDataset):
        return Path(str(dataset._get_load_path()))
    filepath = getattr(dataset, "_filepath", None)
    return Path(str(filepath)) if filepath is not None else None


class MlflowArtifactHook:
    """Logs datasets whose catalog metadata names an ``mlflow_artifact`` folder."""

    def __init__(self) -> None:
        self._catalog: DataCatalog | None = None

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
