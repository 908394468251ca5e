"""Temperature sweep: the distilled student retrained at each temperature from the same cached logits,
each a nested MLflow run, summarised as a table and a plot of test accuracy against T."""

import logging
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from text_distill.distill.teacher import TeacherClassifier
from text_distill.pipelines.evaluate.nodes import score_model
from text_distill.pipelines.student.nodes import train_distilled_student

logger = logging.getLogger(__name__)


def _flat(params: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat = {}
    for key, value in params.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


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
) -> dict[str, dict[str, Any]]:
    """One distilled student per temperature: ``student_params`` with ``params.overrides`` (a loss that
    T enters) and ``temperature = T``. Selection on dev as always; test scores for the table only."""
    runs = {}
    for temperature in params["temperatures"]:
        run_params = {**student_params, **params["overrides"], "temperature": float(temperature)}
        logger.info("Temperature sweep: T = %s", temperature)
        student, log, _ = train_distilled_student(
            segmented,
            examples,
            soft_targets,
            transfer_targets,
            teacher_fingerprint,
            teacher,
            word_vocabulary,
            word_embeddings,
            char_vocabulary,
            char_embeddings,
            word_segmenter,
            label_names,
            run_params,
        )
        scores = score_model(
            student, examples, soft_targets, teacher_fingerprint, label_names, evaluate_params
        )
        best = max(log["history"], key=lambda record: record["dev_macro_f1"])
        runs[f"T={temperature:g}"] = {
            "params": {
                key: value
                for key, value in _flat(run_params).items()
                if key not in ("progress", "threads", "checkpoint_dir")
            },
            "metrics": {
                "temperature": float(temperature),
                "dev_macro_f1": best["dev_macro_f1"],
                "test_accuracy": scores["accuracy"],
                "test_macro_f1": scores["macro_f1"],
                "test_fidelity": scores["fidelity"],
                "test_ece": scores["ece"],
                "best_epoch": float(log["best_epoch"]),
            },
            "history": log["history"],
        }
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
