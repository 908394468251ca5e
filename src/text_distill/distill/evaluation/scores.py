"""Evaluation on the test split: scores against labels and teacher, size and speed probes, and the
comparison with the best reference baseline. Used by the evaluate stage and the sweeps."""

import json
import pickle
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import accuracy_score, classification_report, confusion_matrix, f1_score

from text_distill.distill.data.soft_targets import check_soft_target_rows, logits_for
from text_distill.distill.evaluation.metrics import (
    expected_calibration_error,
    fidelity,
    mean_kl_to_teacher,
    reliability_bins,
)
from text_distill.distill.evaluation.speed import interleaved_latency, interleaved_throughput
from text_distill.distill.models.baselines import BaselineClassifier
from text_distill.distill.models.student import StudentClassifier
from text_distill.distill.models.teacher import TeacherClassifier
from text_distill.errors import TextDistillError

STUDENTS = ("student", "student_alone")
SCALAR_SCORES = ("accuracy", "macro_f1", "fidelity", "kl_to_teacher", "ece")


def test_scores(
    labels: np.ndarray,
    logits: np.ndarray,
    label_names: list[str],
    teacher_logits: np.ndarray,
    bins: int,
) -> dict[str, Any]:
    """Accuracy, macro-F1, per-class report and confusion matrix (scikit-learn); agreement with and
    KL to the teacher; calibration (ECE and its reliability bins)."""
    label_ids = list(range(len(label_names)))
    predicted = logits.argmax(axis=1)
    reliability = reliability_bins(logits, labels, bins)
    return {
        "accuracy": float(accuracy_score(labels, predicted)),
        "macro_f1": float(f1_score(labels, predicted, average="macro", labels=label_ids)),
        "fidelity": fidelity(logits, teacher_logits),
        "kl_to_teacher": mean_kl_to_teacher(logits, teacher_logits),
        "ece": expected_calibration_error(logits, labels, bins),
        "per_class": classification_report(
            labels, predicted, labels=label_ids, target_names=label_names, output_dict=True, zero_division=0
        ),
        "confusion_matrix": confusion_matrix(labels, predicted, labels=label_ids).tolist(),
        "reliability": json.loads(reliability.to_json(orient="records")),  # NaN -> null
        "test_rows": int(len(labels)),
    }


def test_logits(soft_targets: pd.DataFrame, examples: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """The test rows and the teacher's cached logits for them (never recomputed). Which teacher made
    them is checked before the run (``hooks.TeacherCheckHook``), not here."""
    test = examples[examples["split"] == "test"]
    check_soft_target_rows(soft_targets, test)
    return test, logits_for(soft_targets, test["example_id"])


Model = TeacherClassifier | StudentClassifier | BaselineClassifier


class SeedVariantMismatchError(TextDistillError, ValueError):
    """A seed variant on disk trained another recipe than the kept student."""


def teacher_scores(
    soft_targets: pd.DataFrame,
    examples: pd.DataFrame,
    member_names: list[str],
    label_names: list[str],
    bins: int,
) -> dict[str, Any]:
    """The teacher's test scores from its cached logits; with an ensemble (``member_names``: the
    fingerprint's ``members``), those of the combined target plus each member's accuracy and macro-F1."""
    test, logits = test_logits(soft_targets, examples)
    labels = test["label_id"].to_numpy()
    scores = test_scores(labels, logits, label_names, logits, bins)
    if "member_logits" in soft_targets.columns:
        names = list(member_names)
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


def model_scores(
    model: StudentClassifier | BaselineClassifier,
    soft_targets: pd.DataFrame,
    examples: pd.DataFrame,
    label_names: list[str],
    bins: int,
) -> dict[str, Any]:
    """A student's or baseline's test scores, end to end from the raw test texts, against the labels
    and the teacher's cached logits."""
    test, teacher_logits = test_logits(soft_targets, examples)
    logits = model.predict_logits(test["text"].tolist())
    return test_scores(test["label_id"].to_numpy(), logits, label_names, teacher_logits, bins)


def across_seeds(name: str, logs: list[dict[str, Any]], scores: list[dict[str, Any]]) -> dict[str, Any]:
    """A student's seeds (the kept model's first, then each seed variant's, from their training logs)
    and each scalar test score over them. Every seed must have trained the kept model's recipe: a
    variant left from an earlier recipe (a stage rerun without it) is refused, not averaged in."""
    kept = logs[0]
    for log in logs[1:]:
        if log.get("recipe") != kept.get("recipe"):
            raise SeedVariantMismatchError(
                f"{name} at seed {log['seed']} trained another recipe than the kept {name} (seed "
                f"{kept['seed']}): rerun its seeds, `kedro run --pipeline student` then `--pipeline evaluate`"
            )
    return {"seeds": [log["seed"] for log in logs], **seed_statistics(scores)}


def serialised_size(model: Model) -> int:
    """Bytes the model takes as the catalog stores it: a ``save_pretrained`` directory for the
    teacher (weights, tokenizer, head) and a student (config, vocabulary, weights), a pickle for a
    baseline."""
    if isinstance(model, BaselineClassifier):
        return len(pickle.dumps(model))
    with tempfile.TemporaryDirectory(prefix="size-") as directory:
        model.save_pretrained(directory)
        return sum(path.stat().st_size for path in Path(directory).rglob("*") if path.is_file())


def parameter_count(model: Model) -> int:
    """Trained numbers: a torch model's parameters, a linear SVM's weights and biases."""
    if isinstance(model, BaselineClassifier):
        return model.parameter_count()
    return int(sum(p.numel() for p in model.parameters()))


def _model_only(model: Model, batches: list) -> Callable[[], int]:
    """A workload running the model alone on inputs prepared in advance (no text processing)."""

    def call(batch: Any) -> int:
        if isinstance(batch, dict):  # the teacher's tensors
            model(**batch)
            return len(batch["input_ids"])
        if isinstance(batch, tuple):  # a student's ids and lengths
            model(*batch)
            return len(batch[1])
        model(batch)  # a baseline's TF-IDF features
        return batch.shape[0]

    @torch.inference_mode()
    def run() -> int:
        return sum(call(batch) for batch in batches)

    return run


def profile(
    models: dict[str, Model],
    texts: list[str],
    latency_texts: list[str],
    batch_size: int,
    rounds: int,
    min_seconds: float,
) -> dict[str, dict[str, float]]:
    """Per model: parameters, size on disk, throughput at ``batch_size`` end to end (raw text to
    logits) and model-only, and latency p50/p95 at batch 1 end to end. One process, the models
    taking turns (``rounds`` rounds of at least ``min_seconds`` each)."""
    for model in models.values():
        if isinstance(model, torch.nn.Module):
            model.eval()
    by_length = sorted(texts, key=len)  # what predict_logits does for the teacher: little padding
    workloads = {}
    for name, model in models.items():
        workloads[name] = lambda m=model: len(m.predict_logits(texts, batch_size))
        batches = [model.encode(by_length[i : i + batch_size]) for i in range(0, len(texts), batch_size)]
        workloads[f"{name}_model_only"] = _model_only(model, batches)
    speed = interleaved_throughput(workloads, rounds, min_seconds)
    latency = interleaved_latency(
        {name: lambda t, m=model: m.predict_logits(t, 1) for name, model in models.items()}, latency_texts
    )
    return {
        name: {
            "params": parameter_count(model),
            "size_bytes": serialised_size(model),
            "texts_per_second": speed[name],
            "model_texts_per_second": speed[f"{name}_model_only"],
            **latency[name],
        }
        for name, model in models.items()
    }


def seed_statistics(runs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each scalar score over seeds: the values (the kept model's first), mean and sample std."""
    statistics = {}
    for key in SCALAR_SCORES:
        values = np.array([run[key] for run in runs])
        statistics[key] = {
            "values": values.tolist(),
            "mean": float(values.mean()),
            "std": float(values.std(ddof=1)) if len(values) > 1 else 0.0,
        }
    return statistics


def against_best_baseline(summary: dict[str, Any], baselines: list[str]) -> dict[str, Any]:
    """The baseline with the best test accuracy, and each student's margin over it in points (the
    mean over seeds, so one lucky seed does not decide)."""
    if not baselines:
        return {}
    best = max(baselines, key=lambda name: summary[name]["accuracy"])
    reference = summary[best]["accuracy"]
    verdict: dict[str, Any] = {"baseline": best, "accuracy": reference}
    for name in ("teacher", *STUDENTS):
        seeded = summary["across_seeds"].get(name, {}).get("accuracy")
        accuracy = seeded["mean"] if seeded else summary[name]["accuracy"]
        verdict[name] = {
            "accuracy": accuracy,
            "margin_points": 100 * (accuracy - reference),
            "beats": bool(accuracy > reference),
        }
    return verdict
