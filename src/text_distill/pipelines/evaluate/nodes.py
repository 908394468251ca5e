"""Evaluate teacher, distilled student and student-alone on the test split."""

import logging
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import accuracy_score, classification_report, f1_score

from text_distill.distill.soft_targets import check_soft_targets, logits_for
from text_distill.distill.speed import interleaved_throughput
from text_distill.distill.student import StudentClassifier
from text_distill.distill.teacher import TeacherClassifier

logger = logging.getLogger(__name__)

MODELS = ("teacher", "student", "student_alone")


def _scores(labels: np.ndarray, predicted: np.ndarray, label_names: list[str]) -> dict[str, Any]:
    label_ids = list(range(len(label_names)))
    return {
        "accuracy": float(accuracy_score(labels, predicted)),
        "macro_f1": float(f1_score(labels, predicted, average="macro", labels=label_ids)),
        "per_class": classification_report(
            labels, predicted, labels=label_ids, target_names=label_names, output_dict=True, zero_division=0
        ),
        "test_rows": int(len(labels)),
    }


def score_teacher(
    soft_targets: pd.DataFrame,
    examples: pd.DataFrame,
    teacher_fingerprint: dict[str, Any],
    label_names: list[str],
) -> dict[str, Any]:
    """Teacher test scores from its cached logits (the same forward pass, not recomputed).

    With a teacher ensemble these are the scores of the combined target, plus each member's own.
    """
    test = examples[examples["split"] == "test"]
    check_soft_targets(soft_targets, test, teacher_fingerprint["fingerprint"])
    labels = test["label_id"].to_numpy()
    scores = _scores(labels, logits_for(soft_targets, test["example_id"]).argmax(axis=1), label_names)
    if "member_logits" in soft_targets.columns:
        names = list(teacher_fingerprint["members"])
        members = logits_for(soft_targets, test["example_id"], "member_logits").reshape(
            len(test), len(names), len(label_names)
        )
        scores["members"] = {
            name: {
                key: value
                for key, value in _scores(labels, members[:, i].argmax(axis=1), label_names).items()
                if key in ("accuracy", "macro_f1")
            }
            for i, name in enumerate(names)
        }
    return scores


def score_student(
    student: StudentClassifier, examples: pd.DataFrame, label_names: list[str]
) -> dict[str, Any]:
    """Student test scores, end to end from the raw test texts."""
    test = examples[examples["split"] == "test"]
    predicted = student.predict_logits(test["text"].tolist()).argmax(axis=1)
    return _scores(test["label_id"].to_numpy(), predicted, label_names)


def profile_models(
    teacher: TeacherClassifier,
    student: StudentClassifier,
    student_alone: StudentClassifier,
    examples: pd.DataFrame,
    params: dict[str, Any],
) -> dict[str, dict[str, float]]:
    """Parameter counts and end-to-end texts/s of the three models, in one process, same threads."""
    torch.set_num_threads(int(params["threads"]))
    texts = examples.loc[examples["split"] == "test", "text"].head(int(params["speed_texts"])).tolist()
    models = {"teacher": teacher, "student": student, "student_alone": student_alone}
    batch = {"teacher": params["teacher_batch_size"], "student": params["student_batch_size"]}
    predictors = {
        name: (
            lambda t, m=model, b=batch["teacher" if name == "teacher" else "student"]: m.predict_logits(t, b)
        )
        for name, model in models.items()
    }
    speed = interleaved_throughput(
        predictors, texts, int(params["speed_rounds"]), float(params["speed_min_seconds"])
    )
    profile = {
        name: {"texts_per_second": speed[name], "params": int(sum(p.numel() for p in model.parameters()))}
        for name, model in models.items()
    }
    logger.info("Speed on %d test texts with %s threads: %s", len(texts), params["threads"], profile)
    return profile


def _report(summary: dict[str, Any], scores: dict[str, dict[str, Any]]) -> str:
    lines = [
        "# Distillation report",
        "",
        f"Teacher fingerprint: `{summary['teacher_fingerprint']}`",
        f"Test rows: {scores['teacher']['test_rows']}; speed measured with {summary['threads']} thread(s), "
        "raw text to label (segmentation and tokenisation included).",
        "Model selection used the dev split only; the test split was used for nothing but this report.",
        "",
        "| model | accuracy | macro-F1 | texts/s | params | speed-up vs teacher |",
        "|---|---|---|---|---|---|",
    ]
    teacher_speed = summary["teacher"]["texts_per_second"]
    for name in MODELS:
        row = summary[name]
        lines.append(
            f"| {name} | {row['accuracy']:.4f} | {row['macro_f1']:.4f} | {row['texts_per_second']:.1f} | "
            f"{row['params']:,} | {row['texts_per_second'] / teacher_speed:.1f}x |"
        )
    if "teacher_members" in summary:
        lines += [
            "",
            f"The teacher row is the ensemble's combined logits (weights: "
            f"{summary['teacher_ensemble_weights'] or 'mean'}); speed is the main teacher's alone. Members:",
            "",
            "| teacher | accuracy | macro-F1 |",
            "|---|---|---|",
            *(
                f"| {name} | {member['accuracy']:.4f} | {member['macro_f1']:.4f} |"
                for name, member in summary["teacher_members"].items()
            ),
        ]
    rows = summary["rows"]
    lines += [
        "",
        "## Rows",
        "",
        f"{rows['rows_in']} in = {rows['kept']} kept + {rows['quarantined']} quarantined + "
        f"{rows['duplicates_collapsed']} duplicates collapsed; quarantined by reason: "
        f"{rows['quarantined_by_reason'] or 'none'}.",
    ]
    for name in MODELS:
        rows = {
            key: value for key, value in scores[name]["per_class"].items() if key != "accuracy"
        }  # a scalar
        per_class = pd.DataFrame(rows).T
        lines += ["", f"## Per class: {name}", "", per_class.round(4).to_markdown()]
    return "\n".join(lines) + "\n"


def summarise(
    teacher_scores: dict[str, Any],
    student_scores: dict[str, Any],
    student_alone_scores: dict[str, Any],
    profile: dict[str, dict[str, float]],
    row_accounting: dict[str, Any],
    teacher_fingerprint: dict[str, Any],
    params: dict[str, Any],
) -> tuple[dict[str, Any], str, dict[str, dict[str, float]]]:
    """The JSON summary, the markdown report and the metrics tracked in MLflow."""
    scores = {"teacher": teacher_scores, "student": student_scores, "student_alone": student_alone_scores}
    summary: dict[str, Any] = {
        name: {
            "accuracy": scores[name]["accuracy"],
            "macro_f1": scores[name]["macro_f1"],
            **profile[name],
        }
        for name in MODELS
    }
    summary.update(
        rows=row_accounting, teacher_fingerprint=teacher_fingerprint["fingerprint"], threads=params["threads"]
    )
    summary["student_speedup"] = (
        summary["student"]["texts_per_second"] / summary["teacher"]["texts_per_second"]
    )
    if "members" in teacher_scores:
        summary["teacher_members"] = teacher_scores["members"]
        summary["teacher_ensemble_weights"] = teacher_fingerprint["weights"]
    metrics = {
        f"{name}_{key}": {"value": float(value), "step": 0}
        for name in MODELS
        for key, value in summary[name].items()
    }
    metrics["student_speedup"] = {"value": float(summary["student_speedup"]), "step": 0}
    for member, member_scores in summary.get("teacher_members", {}).items():
        for key, value in member_scores.items():
            metrics[f"teacher_{member}_{key}"] = {"value": float(value), "step": 0}
    for key in ("rows_in", "kept", "quarantined", "duplicates_collapsed"):
        metrics[key if key.startswith("rows_") else f"rows_{key}"] = {
            "value": float(row_accounting[key]),
            "step": 0,
        }
    return summary, _report(summary, scores), metrics
