"""Temperature sweep: the distilled student retrained at each temperature from the same cached logits,
each a nested MLflow run, summarised as a table and a plot of test accuracy against T.

``temperature_sweep.engine`` says where the trials run: ``local`` (one after another here) or ``ray``
(one Ray Tune trial per temperature); the same trial function, so the same seed gives the same runs.
"""

from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from text_distill.distill.engines import engine
from text_distill.distill.engines.studies import sweep_figure, sweep_table, temperature_configs
from text_distill.distill.engines.sweeps import GRID_ENGINES
from text_distill.distill.engines.trials import ARCHITECTURE, TEMPERATURE, Study, study_node


@study_node
def sweep_temperature(study: Study, params: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """One distilled student per temperature: the student parameters with ``params.overrides`` (a
    loss that T enters) and the temperature T, on ``params.engine``. Selection on dev as always; test
    scores for the table only."""
    configs = temperature_configs(params)
    trial = study.trial([config.get(ARCHITECTURE) for config in configs.values()])
    run = engine(GRID_ENGINES, params.get("engine", "local"), "temperature_sweep.engine")
    runs = run(trial, configs, params, study.ray_params)
    for record in runs.values():  # the table's x axis, under a short name
        record["metrics"]["temperature"] = record["metrics"].pop(TEMPERATURE)
    return runs


def tabulate_sweep(
    runs: dict[str, dict[str, Any]],
    teacher_scores: dict[str, Any],
    student_alone_scores: dict[str, Any],
) -> tuple[pd.DataFrame, Figure]:
    """The sweep as a table (one row per T) and a plot of test accuracy and macro-F1 against T, with
    the teacher and the student-alone baseline as reference lines."""
    table = sweep_table(runs)
    return table, sweep_figure(table, teacher_scores["accuracy"], student_alone_scores["accuracy"])
