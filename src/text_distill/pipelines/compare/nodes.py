"""Compare: the last distill runs of the MLflow store side by side, as a markdown table."""

from typing import Any

import pandas as pd


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, float):
        return f"{value:,.4f}" if abs(value) < 100 else f"{value:,.0f}"
    return str(value).replace("|", "\\|")


def compare_runs(runs: pd.DataFrame, params: dict[str, Any]) -> str:
    """The newest ``params.runs`` runs that carry ``params.require`` (distill runs; sweeps and
    comparisons do not), with the chosen parameters and metrics as columns, newest first."""
    required = f"metrics.{params['require']}"
    runs = runs[runs[required].notna()] if required in runs.columns else runs.iloc[0:0]
    runs = runs.head(int(params["runs"]))
    columns = {"run": [], **{p: [] for p in params["params"]}, **{m: [] for m in params["metrics"]}}
    for _, run in runs.iterrows():
        started = pd.Timestamp(run["start_time"]).strftime("%Y-%m-%d %H:%M")
        columns["run"].append(f"{started} `{run['run_id'][:8]}`")
        for name in params["params"]:
            columns[name].append(run.get(f"params.{name}"))
        for name in params["metrics"]:
            columns[name].append(run.get(f"metrics.{name}"))
    header = list(columns)
    lines = [
        f"# The last {len(runs)} distill runs",
        "",
        "From the project's MLflow store, newest first; browse them with `make mlflow-ui`.",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    for row in range(len(runs)):
        lines.append("| " + " | ".join(_cell(columns[name][row]) for name in header) + " |")
    if not len(runs):
        lines.append("")
        lines.append(f"No finished run with the metric `{params['require']}` yet: run `make distill` first.")
    return "\n".join(lines) + "\n"
