"""Evaluate teacher, distilled student, student-alone and the reference baselines on the test split."""

import logging
from typing import Any

import pandas as pd
import torch
from matplotlib.figure import Figure

from text_distill.distill import plots
from text_distill.distill.baselines import BaselineClassifier
from text_distill.distill.evaluation import (
    SCALAR_SCORES,
    STUDENTS,
    Model,
    against_best_baseline,
    profile,
    seed_statistics,
    teacher_test_logits,
    test_scores,
)
from text_distill.distill.report import render_report
from text_distill.distill.soft_targets import logits_for
from text_distill.distill.student import StudentClassifier
from text_distill.errors import TextDistillError

logger = logging.getLogger(__name__)


class ReplicaMismatchError(TextDistillError, ValueError):
    """The seed replicas on disk were trained with other replica seeds than the kept students'."""


def score_teacher(
    soft_targets: pd.DataFrame,
    examples: pd.DataFrame,
    teacher_fingerprint: dict[str, Any],
    label_names: list[str],
    params: dict[str, Any],
) -> dict[str, Any]:
    """Teacher test scores from its cached logits (the same forward pass, not recomputed).

    With a teacher ensemble these are the scores of the combined target, plus each member's own.
    """
    test, logits = teacher_test_logits(soft_targets, examples, teacher_fingerprint)
    labels = test["label_id"].to_numpy()
    bins = int(params["calibration_bins"])
    scores = test_scores(labels, logits, label_names, logits, bins)
    if "member_logits" in soft_targets.columns:
        names = list(teacher_fingerprint["members"])
        members = logits_for(soft_targets, test["example_id"], "member_logits").reshape(
            len(test), len(names), len(label_names)
        )
        scores["members"] = {
            name: {
                key: value
                for key, value in test_scores(labels, members[:, i], label_names, logits, bins).items()
                if key in ("accuracy", "macro_f1")
            }
            for i, name in enumerate(names)
        }
    return scores


def score_model(
    model: StudentClassifier | BaselineClassifier,
    examples: pd.DataFrame,
    soft_targets: pd.DataFrame,
    teacher_fingerprint: dict[str, Any],
    label_names: list[str],
    params: dict[str, Any],
) -> dict[str, Any]:
    """A student's or baseline's test scores, end to end from the raw test texts, against the labels
    and the teacher."""
    test, teacher_logits = teacher_test_logits(soft_targets, examples, teacher_fingerprint)
    logits = model.predict_logits(test["text"].tolist())
    return test_scores(
        test["label_id"].to_numpy(), logits, label_names, teacher_logits, int(params["calibration_bins"])
    )


def score_across_seeds(
    student_scores: dict[str, Any],
    student_alone_scores: dict[str, Any],
    student_replicas: list[StudentClassifier],
    student_alone_replicas: list[StudentClassifier],
    student_training_log: dict[str, Any],
    student_alone_training_log: dict[str, Any],
    examples: pd.DataFrame,
    soft_targets: pd.DataFrame,
    teacher_fingerprint: dict[str, Any],
    label_names: list[str],
    params: dict[str, Any],
) -> dict[str, dict[str, Any]]:
    """Per student: each scalar test score at every seed (the kept model's first), its mean and
    sample standard deviation."""
    across: dict[str, dict[str, Any]] = {}
    for name, kept, replicas, log in (
        ("student", student_scores, student_replicas, student_training_log),
        ("student_alone", student_alone_scores, student_alone_replicas, student_alone_training_log),
    ):
        seeds = [log["seed"], *log["replica_seeds"]]
        if len(replicas) != len(seeds) - 1:
            raise ReplicaMismatchError(
                f"{len(replicas)} {name} replicas for replica seeds {seeds[1:]}: rerun `kedro run --pipeline "
                "distill --from-nodes student.train_distilled_student,student.train_student_alone`"
            )
        runs = [kept] + [
            score_model(replica, examples, soft_targets, teacher_fingerprint, label_names, params)
            for replica in replicas
        ]
        across[name] = {"seeds": seeds, **seed_statistics(runs)}
    return across


def profile_models(
    examples: pd.DataFrame, params: dict[str, Any], **models: Model
) -> dict[str, dict[str, float]]:
    """Per model (teacher, students, baselines): parameters, size on disk, throughput end to end and
    model-only, latency at batch 1; one process, the same threads, the models taking turns."""
    torch.set_num_threads(int(params["threads"]))
    test = examples.loc[examples["split"] == "test", "text"].tolist()
    measured = profile(
        models,
        test[: int(params["speed_texts"])],
        test[: int(params["latency_texts"])],
        int(params["batch_size"]),
        int(params["speed_rounds"]),
        float(params["speed_min_seconds"]),
    )
    logger.info("Speed with %s threads: %s", params["threads"], measured)
    return measured


def summarise(
    teacher_scores: dict[str, Any],
    student_scores: dict[str, Any],
    student_alone_scores: dict[str, Any],
    across_seeds: dict[str, dict[str, Any]],
    profile: dict[str, dict[str, float]],
    row_accounting: dict[str, Any],
    teacher_fingerprint: dict[str, Any],
    teacher_labelling: dict[str, Any],
    params: dict[str, Any],
    **baseline_scores: dict[str, Any],
) -> tuple[dict[str, Any], str, dict[str, dict[str, float]]]:
    """The JSON summary, the markdown report and the metrics tracked in MLflow. ``baseline_scores``:
    one entry per reference baseline, ``baseline_<name>``."""
    scores = {
        "teacher": teacher_scores,
        "student": student_scores,
        "student_alone": student_alone_scores,
        **baseline_scores,
    }
    summary: dict[str, Any] = {
        name: {**{key: scores[name][key] for key in SCALAR_SCORES}, **profile[name]} for name in scores
    }
    summary.update(
        rows=row_accounting,
        teacher_fingerprint=teacher_fingerprint["fingerprint"],
        teacher_labelling=teacher_labelling,
        threads=params["threads"],
        batch_size=params["batch_size"],
        calibration_bins=params["calibration_bins"],
        across_seeds=across_seeds,
    )
    summary["student_speedup"] = (
        summary["student"]["texts_per_second"] / summary["teacher"]["texts_per_second"]
    )
    summary["against_best_baseline"] = against_best_baseline(summary, list(baseline_scores))
    if "members" in teacher_scores:
        summary["teacher_members"] = teacher_scores["members"]
        summary["teacher_ensemble_weights"] = teacher_fingerprint["weights"]
    metrics = {
        f"{name}_{key}": {"value": float(value), "step": 0}
        for name in scores
        for key, value in summary[name].items()
    }
    metrics["student_speedup"] = {"value": float(summary["student_speedup"]), "step": 0}
    verdict = summary["against_best_baseline"]
    if verdict:
        metrics["best_baseline_accuracy"] = {"value": verdict["accuracy"], "step": 0}
        for name in ("teacher", *STUDENTS):
            metrics[f"{name}_margin_over_best_baseline"] = {
                "value": verdict[name]["margin_points"],
                "step": 0,
            }
    for name, seeded in across_seeds.items():
        for key in SCALAR_SCORES:
            for statistic in ("mean", "std"):
                metrics[f"{name}_{key}_{statistic}"] = {"value": seeded[key][statistic], "step": 0}
    for member, member_scores in summary.get("teacher_members", {}).items():
        for key, value in member_scores.items():
            metrics[f"teacher_{member}_{key}"] = {"value": float(value), "step": 0}
    for key in ("rows_in", "kept", "quarantined", "duplicates_collapsed"):
        metrics[key if key.startswith("rows_") else f"rows_{key}"] = {
            "value": float(row_accounting[key]),
            "step": 0,
        }
    return summary, render_report(summary, scores), metrics


def plot_evaluation(
    teacher_scores: dict[str, Any],
    student_scores: dict[str, Any],
    student_alone_scores: dict[str, Any],
    profile: dict[str, dict[str, float]],
    student_training_log: dict[str, Any],
    student_alone_training_log: dict[str, Any],
    label_names: list[str],
    **baseline_scores: dict[str, Any],
) -> tuple[Figure, Figure, Figure, Figure]:
    """Confusion matrices, reliability diagram, accuracy against throughput (baselines included),
    training curves."""
    scores = {
        "teacher": teacher_scores,
        "student": student_scores,
        "student_alone": student_alone_scores,
        **baseline_scores,
    }
    return (
        plots.confusion_matrices({name: s["confusion_matrix"] for name, s in scores.items()}, label_names),
        plots.reliability_diagram({name: s["reliability"] for name, s in scores.items()}),
        plots.accuracy_against_speed(
            {name: (s["accuracy"], profile[name]["texts_per_second"]) for name, s in scores.items()}
        ),
        plots.training_curves(
            {
                "student": student_training_log["history"],
                "student_alone": student_alone_training_log["history"],
            }
        ),
    )
