"""MLflow runs as Kedro datasets, for what kedro-mlflow's datasets do not cover: writing nested
(child) runs, which is what a sweep is in ``mlflow ui``, and reading past runs back as a table.
Both use the tracking store kedro-mlflow configured for the session (``conf/base/mlflow.yml``).
"""

import json
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from kedro.io import AbstractDataset, DatasetError

from text_distill.datasets import atomic


class MlflowNestedRunsDataset(AbstractDataset[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]):
    """Saves ``{run_name: {"params": {...}, "metrics": {...}, "history": [{...}, ...]}}`` as a JSON
    file and as one nested MLflow run per name (``history`` entries become metric steps).

    Example::

        recipe_search_runs:
          type: text_distill.datasets.mlflow_runs.MlflowNestedRunsDataset
          filepath: data/08_reporting/recipe_search_runs.json
    """

    def __init__(self, filepath: str, metadata: dict[str, Any] | None = None) -> None:
        self._filepath = Path(filepath)
        self.metadata = metadata

    def load(self) -> dict[str, dict[str, Any]]:
        return json.loads(self._filepath.read_text())

    def save(self, data: dict[str, dict[str, Any]]) -> None:
        atomic.write_bytes(self._filepath, json.dumps(data, indent=2, ensure_ascii=False).encode())
        for name, run in data.items():
            with mlflow.start_run(run_name=name, nested=True):
                mlflow.log_params(run.get("params", {}))
                mlflow.log_metrics(run.get("metrics", {}))
                for step, record in enumerate(run.get("history", []), start=1):
                    mlflow.log_metrics({k: float(v) for k, v in record.items() if k != "epoch"}, step=step)

    def _exists(self) -> bool:
        return self._filepath.exists()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath)}


class MlflowRecentRunsDataset(AbstractDataset[None, pd.DataFrame]):
    """Loads the most recent finished runs of an experiment as a data frame (one row per run; columns
    ``run_id``, ``run_name``, ``start_time``, ``params.*``, ``metrics.*``). Read-only.

    ``experiment``: a name; by default the experiment of the active run (the one kedro-mlflow opened
    for this session), whose own run is left out.

    Example::

        recent_runs:
          type: text_distill.datasets.mlflow_runs.MlflowRecentRunsDataset
          max_results: 200
    """

    def __init__(
        self, experiment: str | None = None, max_results: int = 200, metadata: dict[str, Any] | None = None
    ) -> None:
        self._experiment = experiment
        self._max_results = int(max_results)
        self.metadata = metadata

    def load(self) -> pd.DataFrame:
        active = mlflow.active_run()
        if self._experiment is not None:
            experiment = mlflow.get_experiment_by_name(self._experiment)
            if experiment is None:
                raise DatasetError(
                    f"no MLflow experiment named {self._experiment!r} in {mlflow.get_tracking_uri()}"
                )
            experiment_id = experiment.experiment_id
        elif active is not None:
            experiment_id = active.info.experiment_id
        else:
            raise DatasetError("no experiment given and no active MLflow run to take it from")
        runs = mlflow.search_runs(
            experiment_ids=[experiment_id],
            filter_string="attributes.status = 'FINISHED'",
            max_results=self._max_results,
            order_by=["attributes.start_time DESC"],
        )
        if active is not None and len(runs):
            runs = runs[runs["run_id"] != active.info.run_id]
        return runs.rename(columns={"tags.mlflow.runName": "run_name"})

    def save(self, data: None) -> None:
        raise DatasetError("MlflowRecentRunsDataset is read-only")

    def _describe(self) -> dict[str, Any]:
        return {"experiment": self._experiment, "max_results": self._max_results}
