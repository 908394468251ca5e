"""Evaluate teacher, distilled student, student-alone and the reference baselines on the test split."""

import json
import logging
import pickle
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure
from sklearn.metrics import accuracy_score, classification_report, confusion_matrix, f1_score

from text_distill.distill import plots
from text_distill.distill.baselines import BaselineClassifier
from text_distill.distill.metrics import (
    expected_calibration_error,
    fidelity,
    mean_kl_to_teacher,
    reliability_bins,
)
from text_distill.distill.soft_targets import check_soft_targets, logits_for
from text_distill.distill.speed import interleaved_latency, interleaved_throughput
from text_distill.distill.student import StudentClassifier
from text_distill.distill.teacher import TeacherClassifier
from text_distill.errors import TextDistillError

logger = logging.getLogger(__name__)


class ReplicaMismatchError(TextDistillError, ValueError):
    """The seed replicas on disk were trained with other replica seeds than the kept students'."""


STUDENTS = ("student", "student_alone")
SCALAR_SCORES = ("accuracy", "macro_f1", "fidelity", "kl_to_teacher", "ece")


def _scores(
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


def _teacher_test_logits(
    soft_targets: pd.DataFrame, examples: pd.DataFrame, teacher_fingerprint: dict[str, Any]
) -> tuple[pd.DataFrame, np.ndarray]:
    test = examples[examples["split"] == "test"]
    check_soft_targets(soft_targets, test, teacher_fingerprint["fingerprint"])
    return test, logits_for(soft_targets, test["example_id"])


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
    test, logits = _teacher_test_logits(soft_targets, examples, teacher_fingerprint)
    labels = test["label_id"].to_numpy()
    bins = int(params["calibration_bins"])
    scores = _scores(labels, logits, label_names, logits, bins)
    if "member_logits" in soft_targets.columns:
        names = list(teacher_fingerprint["members"])
        members = logits_for(soft_targets, test["example_id"], "member_logits").reshape(
            len(test), len(names), len(label_names)
        )
        scores["members"] = {
            name: {
                key: value
                for key, value in _scores(labels, members[:, i], label_names, logits, bins).items()
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
    test, teacher_logits = _teacher_test_logits(soft_targets, examples, teacher_fingerprint)
    logits = model.predict_logits(test["text"].tolist())
    return _scores(
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
                f"{len(replicas)} {name} replicas for replica seeds {seeds[1:]}: rerun "
                "`kedro run --pipeline distill --from-nodes train_distilled_student,train_student_alone`"
            )
        runs = [kept] + [
            score_model(replica, examples, soft_targets, teacher_fingerprint, label_names, params)
            for replica in replicas
        ]
        across[name] = {"seeds": seeds}
        for key in SCALAR_SCORES:
            values = np.array([run[key] for run in runs])
            across[name][key] = {
                "values": values.tolist(),
                "mean": float(values.mean()),
                "std": float(values.std(ddof=1)) if len(values) > 1 else 0.0,
            }
    return across


Model = TeacherClassifier | StudentClassifier | BaselineClassifier


def serialised_size(model: Model) -> int:
    """Bytes the model takes as the catalog stores it: a Hugging Face directory for the teacher
    (weights, tokenizer, head), a pickle for a student or a baseline."""
    if not isinstance(model, TeacherClassifier):
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


def profile_models(
    examples: pd.DataFrame, params: dict[str, Any], **models: Model
) -> dict[str, dict[str, float]]:
    """Per model (teacher, students, baselines): parameters, size on disk, throughput at
    ``batch_size`` end to end (raw text to logits) and model-only, and latency p50/p95 at batch 1
    end to end. One process, the same threads, the models taking turns."""
    torch.set_num_threads(int(params["threads"]))
    test = examples.loc[examples["split"] == "test", "text"].tolist()
    texts = test[: int(params["speed_texts"])]
    batch_size = int(params["batch_size"])
    for model in models.values():
        if isinstance(model, torch.nn.Module):
            model.eval()
    by_length = sorted(texts, key=len)  # what predict_logits does for the teacher: little padding
    workloads = {}
    for name, model in models.items():
        workloads[name] = lambda m=model: len(m.predict_logits(texts, batch_size))
        batches = [model.encode(by_length[i : i + batch_size]) for i in range(0, len(texts), batch_size)]
        workloads[f"{name}_model_only"] = _model_only(model, batches)
    speed = interleaved_throughput(workloads, int(params["speed_rounds"]), float(params["speed_min_seconds"]))
    latency = interleaved_latency(
        {name: lambda t, m=model: m.predict_logits(t, 1) for name, model in models.items()},
        test[: int(params["latency_texts"])],
    )
    profile = {
        name: {
            "params": parameter_count(model),
            "size_bytes": serialised_size(model),
            "texts_per_second": speed[name],
            "model_texts_per_second": speed[f"{name}_model_only"],
            **latency[name],
        }
        for name, model in models.items()
    }
    logger.info("Speed with %s threads: %s", params["threads"], profile)
    return profile


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


def _verdict_lines(verdict: dict[str, Any]) -> list[str]:
    if not verdict:
        return []
    lines = [
        "## Against the best baseline",
        "",
        f"The best reference baseline on the test split is `{verdict['baseline']}` (TF-IDF n-grams + "
        f"linear SVM, fitted on train in this run, C chosen on dev): accuracy {verdict['accuracy']:.4f}. "
        "Students are compared by their mean accuracy over seeds.",
        "",
        "| model | accuracy | vs best baseline (points) | beats it |",
        "|---|---|---|---|",
    ]
    for name in ("teacher", *STUDENTS):
        row = verdict[name]
        lines.append(
            f"| {name} | {row['accuracy']:.4f} | {row['margin_points']:+.2f} | "
            f"{'**yes**' if row['beats'] else '**no**'} |"
        )
    return [*lines, ""]


def _report(summary: dict[str, Any], scores: dict[str, dict[str, Any]]) -> str:
    names = list(scores)
    verdict = summary["against_best_baseline"]
    lines = [
        "# Distillation report",
        "",
        f"Teacher fingerprint: `{summary['teacher_fingerprint']}`",
        f"Test rows: {scores['teacher']['test_rows']}. Model selection and early stopping used the dev "
        "split only; the test split was used for nothing but this report.",
        "",
        *_verdict_lines(verdict),
        "## Quality",
        "",
        "Fidelity: share of test texts where the model predicts the teacher's class; KL: mean "
        "KL(teacher || model) in nats; ECE: expected calibration error "
        f"({summary['calibration_bins']} confidence bins).",
        "",
        "| model | accuracy | macro-F1 | fidelity | KL to teacher | ECE |",
        "|---|---|---|---|---|---|",
    ]
    for name in names:
        row = summary[name]
        lines.append(
            f"| {name} | {row['accuracy']:.4f} | {row['macro_f1']:.4f} | {row['fidelity']:.4f} | "
            f"{row['kl_to_teacher']:.4f} | {row['ece']:.4f} |"
        )
    lines += [
        "",
        "## Speed and size",
        "",
        f"One process, {summary['threads']} thread(s), models interleaved. End to end: raw text to "
        "logits, normalisation, segmentation and tokenisation included; model-only: inputs prepared in "
        f"advance. Throughput at batch {summary['batch_size']}, latency at batch 1.",
        "",
        "| model | params | size on disk (MB) | texts/s end to end | texts/s model-only | p50 ms | p95 ms "
        "| speed-up vs teacher |",
        "|---|---|---|---|---|---|---|---|",
    ]
    teacher_speed = summary["teacher"]["texts_per_second"]
    for name in names:
        row = summary[name]
        lines.append(
            f"| {name} | {row['params']:,} | {row['size_bytes'] / 1e6:.1f} | {row['texts_per_second']:.1f} | "
            f"{row['model_texts_per_second']:.1f} | {row['latency_p50_ms']:.2f} | "
            f"{row['latency_p95_ms']:.2f} | {row['texts_per_second'] / teacher_speed:.1f}x |"
        )
    lines += [
        "",
        "## Across seeds",
        "",
        "Each student trained once per seed, same data and settings; mean ± sample standard deviation "
        "of the test scores (the tables above show the kept model, the first seed).",
        "",
        "| model | seeds | accuracy | macro-F1 | fidelity | ECE |",
        "|---|---|---|---|---|---|",
    ]
    for name, seeded in summary["across_seeds"].items():
        cells = " | ".join(
            f"{seeded[key]['mean']:.4f} ± {seeded[key]['std']:.4f}"
            for key in ("accuracy", "macro_f1", "fidelity", "ece")
        )
        lines.append(f"| {name} | {', '.join(map(str, seeded['seeds']))} | {cells} |")
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
    labelling = summary["teacher_labelling"]
    by_source = ", ".join(f"{count} {source}" for source, count in labelling["rows_by_source"].items())
    lines += [
        "",
        f"Transfer set: {labelling['transfer_rows']} rows ({by_source}); the teacher scored "
        f"{labelling['teacher_forward_texts']} texts in this run, {labelling['store_hits']} came from the "
        f"soft-target store and {labelling['repeated_texts']} repeated a text already scored.",
    ]
    for name in names:
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
    return summary, _report(summary, scores), metrics


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
