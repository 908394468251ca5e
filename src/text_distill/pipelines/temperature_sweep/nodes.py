"""Temperature sweep: the distilled student retrained from the same cached logits at each temperature
of ``variants.yml`` (a node each), each a nested MLflow run, summarised as a table and a plot of test
accuracy against T.

``temperature_sweep.engine`` says where a temperature's trial runs: ``local`` (in this process) or
``ray`` (one Ray task; under ``--runner ThreadRunner`` the temperatures run at once); the same trial
function, so the same seed gives the same run.
"""

from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from text_distill.distill.runtimes import engine
from text_distill.distill.tuning.studies import (
    sweep_figure,
    sweep_table,
    temperature_config,
    temperature_run_name,
)
from text_distill.distill.tuning.sweeps import TRIAL_ENGINES
from text_distill.distill.tuning.trials import ARCHITECTURE, TEMPERATURE, Study


def train_at_temperature(
    params: dict[str, Any], temperature: float, **study_inputs: Any
) -> dict[str, dict[str, Any]]:
    """The distilled student at ``temperature``: the student parameters with ``params.overrides`` (a
    loss that T enters), on ``params.engine``, as one nested run (``T=4``). Selection on dev as
    always; test scores for the table only. ``study_inputs``: ``pipelines.inputs.STUDY``'s entries
    by argument name (``Study.of``'s)."""
    study = Study.of(**study_inputs)
    config = temperature_config(params, temperature)
    run = engine(TRIAL_ENGINES, params["engine"], "temperature_sweep.engine")
    record = run(study.trial([config.get(ARCHITECTURE)]), config, params, study.ray_params)
    record["metrics"]["temperature"] = record["metrics"].pop(TEMPERATURE)  # the table's x axis
    return {temperature_run_name(temperature): record}


def tabulate_sweep(
    teacher_scores: dict[str, Any],
    student_alone_scores: dict[str, Any],
    *runs: dict[str, dict[str, Any]],
) -> tuple[pd.DataFrame, Figure]:
    """The temperatures' runs as a table (one row per T) and a plot of test accuracy and macro-F1
    against T, with the teacher and the student-alone baseline as reference lines."""
    table = sweep_table({name: record for run in runs for name, record in run.items()})
    return table, sweep_figure(table, teacher_scores["accuracy"], student_alone_scores["accuracy"])
