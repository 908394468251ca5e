"""Temperature sweep: the distilled student retrained at each temperature from the same cached logits,
each a nested MLflow run, summarised as a table and a plot of test accuracy against T.

``temperature_sweep.engine`` says where the trials run: ``local`` (one after another here) or ``ray``
(one Ray Tune trial per temperature); the same trial function, so the same seed gives the same runs.
"""

import logging
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from text_distill.distill.engines import engine
from text_distill.distill.engines.sweeps import GRID_ENGINES, flatten
from text_distill.distill.engines.trials import ARCHITECTURE, TEMPERATURE, needed_teacher, student_trial
from text_distill.distill.teacher import TeacherClassifier

logger = logging.getLogger(__name__)


def sweep_temperature(
    segmented: pd.DataFrame,
    examples: pd.DataFrame,
    soft_targets: pd.DataFrame,
    transfer_targets: pd.DataFrame,
    teacher_fingerprint: dict[str, Any],
    teacher: TeacherClassifier,
    word_vocabulary: list[str],
    word_embeddings: np.ndarray,
    char_vocabulary: list[str],
    char_embeddings: np.ndarray,
    word_segmenter: dict[str, str],
    label_names: list[str],
    student_params: dict[str, Any],
    evaluate_params: dict[str, Any],
    params: dict[str, Any],
    ray_params: dict[str, Any] | None = None,
) -> dict[str, dict[str, Any]]:
    """One distilled student per temperature: ``student_params`` with ``params.overrides`` (a loss that
    T enters) and the temperature T, on ``params.engine``. Selection on dev as always; test scores
    for the table only."""
    overrides = flatten({"student": params.get("overrides") or {}})
    configs = {
        f"T={temperature:g}": {**overrides, TEMPERATURE: float(temperature)}
        for temperature in params["temperatures"]
    }
    trial = student_trial(
        segmented,
        examples,
        soft_targets,
        transfer_targets,
        teacher_fingerprint,
        needed_teacher(teacher, student_params, [overrides.get(ARCHITECTURE)]),
        word_vocabulary,
        word_embeddings,
        char_vocabulary,
        char_embeddings,
        word_segmenter,
        label_names,
        student_params,
        evaluate_params,
    )
    run = engine(GRID_ENGINES, params.get("engine", "local"), "temperature_sweep.engine")
    runs = run(trial, configs, params, ray_params or {})
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
    table = pd.DataFrame(
        [
            {
                key: run["metrics"][key]
                for key in ("temperature", "test_accuracy", "test_macro_f1", "dev_macro_f1")
            }
            for run in runs.values()
        ]
    ).sort_values("temperature")
    figure = Figure(figsize=(6.4, 4.0), layout="constrained")
    axes = figure.subplots()
    axes.plot(table["temperature"], table["test_accuracy"], "o-", label="distilled student: accuracy")
    axes.plot(table["temperature"], table["test_macro_f1"], "s--", label="distilled student: macro-F1")
    axes.axhline(teacher_scores["accuracy"], color="grey", linestyle=":", label="teacher accuracy")
    axes.axhline(
        student_alone_scores["accuracy"], color="black", linestyle="-.", label="student-alone accuracy"
    )
    axes.set_xscale("log", base=2)
    axes.set_xticks(table["temperature"], [f"{t:g}" for t in table["temperature"]])
    axes.set_xlabel("temperature T")
    axes.set_ylabel("test score")
    axes.set_title("Distilled student against temperature")
    axes.grid(alpha=0.3)
    axes.legend(fontsize="small")
    return table.reset_index(drop=True), figure
