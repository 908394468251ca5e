"""The learning curve: test scores against the number of labels, one point per label budget (the whole
chain run again at ``ingest.label_budget``) and the full-label point of the last distill run.

A point is a run's ``distill_summary``; the curve keeps, per point, the rows of the summary a reader
compares (teacher, students, baselines, the spread over seeds, the labels each model learnt from).
"""

import logging
from typing import Any

import matplotlib

matplotlib.use("Agg")
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import NullLocator  # noqa: E402

from text_distill.distill.evaluation.report import summary_metrics  # noqa: E402
from text_distill.distill.evaluation.scores import STUDENTS  # noqa: E402

logger = logging.getLogger(__name__)

POINT_KEYS = ("labels", "against_best_baseline", "across_seeds", "student_speedup")


def scored_models(summary: dict[str, Any]) -> list[str]:
    """The models a summary scores: the teacher, the students and every baseline, in its order."""
    return [
        name
        for name, row in summary.items()
        if isinstance(row, dict) and {"accuracy", "macro_f1"} <= set(row)
    ]


def curve_point(summary: dict[str, Any]) -> dict[str, Any]:
    """One point of the curve: the summary's model rows and the keys a reader compares."""
    return {
        **{name: summary[name] for name in scored_models(summary)},
        **{key: summary[key] for key in POINT_KEYS},
    }


def budget_run(budget: int, summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A budget's nested MLflow run (``labels=1000``): its budget and label counts as params, every
    number of its summary as metrics, and the point itself (kept in the run's JSON)."""
    labels = summary["labels"]
    metrics = {
        name: entry["value"] for name, entry in summary_metrics(summary, scored_models(summary)).items()
    }
    params = {
        "label_budget": budget,
        "labelled_train_rows": labels["labelled"]["train"],
        "labelled_dev_rows": labels["labelled"]["dev"],
    }
    return {f"labels={budget}": {"params": params, "metrics": metrics, "point": curve_point(summary)}}


def curve(full_summary: dict[str, Any] | None, runs: list[dict[str, dict[str, Any]]]) -> dict[str, Any]:
    """The curve as ``label_curve.json`` holds it: one point per number of labelled train rows (the
    key, ascending), the full-label point from ``full_summary`` (the last distill run) when given."""
    points = [record["point"] for run in runs for record in run.values()]
    if full_summary is not None and _every_label(full_summary):
        points.append(curve_point(full_summary))
    by_labels = {point["labels"]["labelled"]["train"]: point for point in points}
    return {str(labels): by_labels[labels] for labels in sorted(by_labels)}


def _every_label(summary: dict[str, Any]) -> bool:
    """Whether a distill summary is a full-label point (else the curve leaves it out, and says why)."""
    if "labels" not in summary:
        logger.warning("The last distill summary predates label counts: the curve has no full-label point")
        return False
    if summary["labels"]["label_budget"] is not None:
        logger.warning(
            "The last distill run had ingest.label_budget %s: the curve has no full-label point (run distill "
            "with every label for it)",
            summary["labels"]["label_budget"],
        )
        return False
    return True


def _mean_std(point: dict[str, Any], model: str) -> tuple[float, float]:
    seeded = point["across_seeds"].get(model)
    if seeded is None:  # a run without seed variants: the kept model alone
        return point[model]["accuracy"], 0.0
    return seeded["accuracy"]["mean"], seeded["accuracy"]["std"]


def curve_table(points: dict[str, Any]) -> pd.DataFrame:
    """One row per point: labels used, test accuracy of every model (students: mean and std over
    seeds) and the distilled student's margins over the best baseline and its own hard-label twin,
    and its share of the teacher."""
    rows = []
    for labels, point in points.items():
        student, student_std = _mean_std(point, "student")
        alone, alone_std = _mean_std(point, "student_alone")
        baselines = {name: point[name]["accuracy"] for name in point if name.startswith("baseline_")}
        teacher = point["teacher"]["accuracy"]
        rows.append(
            {
                "labelled_train_rows": int(labels),
                "label_budget": point["labels"]["label_budget"],
                "labelled_dev_rows": point["labels"]["labelled"]["dev"],
                "teacher": teacher,
                "student_mean": student,
                "student_std": student_std,
                "student_alone_mean": alone,
                "student_alone_std": alone_std,
                **baselines,
                "student_vs_best_baseline_points": 100
                * (student - max(baselines.values(), default=float("nan"))),
                "student_vs_alone_points": 100 * (student - alone),
                "student_share_of_teacher": student / teacher,
                "student_speedup": point["student_speedup"],
            }
        )
    return pd.DataFrame(rows)


def curve_figure(table: pd.DataFrame) -> Figure:
    """Test accuracy against labelled train rows (log x): the teacher, both students (mean ± std over
    seeds) and every baseline."""
    figure = Figure(figsize=(6.8, 4.4), layout="constrained")
    axes = figure.subplots()
    x = table["labelled_train_rows"]
    axes.plot(x, table["teacher"], "o-", color="grey", label="teacher")
    for model, style in zip(STUDENTS, ("s-", "^--"), strict=True):
        axes.errorbar(
            x, table[f"{model}_mean"], yerr=table[f"{model}_std"], fmt=style, capsize=3, label=model
        )
    for column in (name for name in table.columns if name.startswith("baseline_")):
        axes.plot(x, table[column], "x:", label=column.removeprefix("baseline_"))
    axes.set_xscale("log")
    axes.set_xticks(x, [f"{n:,}" for n in x])
    axes.xaxis.set_minor_locator(NullLocator())  # the budgets alone label the axis
    axes.set(
        xlabel="labelled train rows", ylabel="test accuracy", title="Learning curve: labels against accuracy"
    )
    axes.grid(alpha=0.3)
    axes.legend(fontsize="small")
    return figure
