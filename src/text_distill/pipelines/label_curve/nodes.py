"""Learning curve: the distill chain again at each label budget of ``variants.yml`` (its train labels
cut to the budget, dev and test unchanged), each budget a nested MLflow run, then the curve as JSON, a
table and a plot of test accuracy against labels. The curve's logic lives in
``distill.evaluation.learning_curve``."""

from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from text_distill.distill.data.splits import examples_at_budget
from text_distill.distill.evaluation.learning_curve import budget_run, curve, curve_figure, curve_table

__all__ = ["examples_at_budget", "record_budget", "tabulate_label_curve"]


def record_budget(distill_summary: dict[str, Any], budget: int) -> dict[str, dict[str, Any]]:
    """The budget's summary as its nested run (``labels=1000``)."""
    return budget_run(budget, distill_summary)


def tabulate_label_curve(
    distill_summary: dict[str, Any], *runs: dict[str, dict[str, Any]]
) -> tuple[dict[str, Any], pd.DataFrame, Figure]:
    """The curve (one point per budget and the last distill run's full-label point), its table and
    its plot."""
    points = curve(distill_summary, list(runs))
    table = curve_table(points)
    return points, table, curve_figure(table)
