"""Nested MLflow runs as a Kedro dataset: one child run per entry, under the run kedro-mlflow opened.

kedro-mlflow logs params, metrics and artifacts to the pipeline's own run but has no dataset for child
runs, which is what a sweep is in ``mlflow ui`` (expand the parent run to compare its children).
"""

import json
from pathlib import Path
from typing import Any

import mlflow
from kedro.io import AbstractDataset


class MlflowNestedRunsDataset(AbstractDataset[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]):
    """Saves ``{run_name: {"params": {...}, "metrics": {...}, "history": [{...}, ...]}}`` as a JSON
    file and as one nested MLflow run per name (``history`` entries become metric steps).

    Example::

        temperature_sweep_runs:
          type: text_distill.datasets.mlflow_runs.MlflowNestedRunsDataset
          filepath: data/08_reporting/temperature_sweep_runs.json
    """

    def __init__(self, filepath: str, metadata: dict[str, Any] | None = None) -> None:
        self._filepath = Path(filepath)
        self.metadata = metadata

    def load(self) -> dict[str, dict[str, Any]]:
        return json.loads(self._filepath.read_text())

    def save(self, data: dict[str, dict[str, Any]]) -> None:
        self._filepath.parent.mkdir(parents=True, exist_ok=True)
        self._filepath.write_text(json.dumps(data, indent=2, ensure_ascii=False))
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
