"""Evaluate teacher, distilled student, student-alone and the reference baselines on the test split
(the scoring, summary, report and figures live in ``distill.evaluation``: ``scores``, ``report`` and
``plots``)."""

import logging
from typing import Any

import pandas as pd
import torch
from matplotlib.figure import Figure

from text_distill.distill.data.splits import fingerprint_test_split
from text_distill.distill.data.transfer_set import labelled_partitions, named_partitions
from text_distill.distill.evaluation import plots
from text_distill.distill.evaluation.report import render_report, summarise_scores, summary_metrics
from text_distill.distill.evaluation.scores import (
    STUDENTS,
    Model,
    across_seeds,
    model_scores,
    profile,
    teacher_scores,
)
from text_distill.distill.labelling.soft_target_fill import Partitions, example_targets, fill_store
from text_distill.distill.models.baselines import BaselineClassifier, CrossFittedBaseline
from text_distill.distill.models.student import StudentClassifier
from text_distill.distill.models.teacher import TeacherClassifier
from text_distill.variants import seed_dataset

logger = logging.getLogger(__name__)

TEST_PARTITION_ROWS = 20_000  # test rows per store partition: bounds memory, as augment.chunk_rows does


def label_test_rows(
    teacher: TeacherClassifier,
    teacher_fingerprint: dict[str, Any],
    test_examples: pd.DataFrame,
    store_keys: Partitions,
    teacher_labelling: dict[str, Any],
    params: dict[str, Any],
    ray_params: dict[str, Any] | None = None,
    **members: TeacherClassifier | CrossFittedBaseline,
) -> tuple[Partitions, dict[str, Any]]:
    """The teacher's logits for the test rows, labelled into the soft-target store as the transfer
    set was (a rerun scores nothing): new store partitions and the labelling report. The precision is
    the fingerprint's, checked on dev when the teacher was fingerprinted (``teacher_labelling``, the
    transfer set's, orders this node after that fill); ``params`` are ``soft_targets.*``."""
    test = named_partitions(labelled_partitions(test_examples, TEST_PARTITION_ROWS))
    partitions, report = fill_store(
        teacher, members, teacher_fingerprint, test, store_keys, None, params, ray_params or {}
    )
    logger.info(
        "Test rows: %d, %d already in the store (teacher precision %s, as for the transfer set: %s)",
        *(report["transfer_rows"], report["store_hits"], report["precision"], teacher_labelling["precision"]),
    )
    return partitions, report


def assemble_test_targets(
    test_examples: pd.DataFrame,
    soft_target_store: Partitions,
    teacher_fingerprint: dict[str, Any],
    test_labelling: dict[str, Any],
) -> pd.DataFrame:
    """The store's logits for each test row (``test_soft_targets``), what every score against the
    teacher reads."""
    fingerprint = teacher_fingerprint["fingerprint"]
    return example_targets(test_examples, soft_target_store, fingerprint, test_labelling["teachers"])


def score_teacher(
    soft_targets: pd.DataFrame,
    examples: pd.DataFrame,
    teacher_fingerprint: dict[str, Any],
    label_names: list[str],
    params: dict[str, Any],
) -> dict[str, Any]:
    """Teacher test scores from its logits in the store (``test_soft_targets``); with an ensemble, of
    the combined target plus each member's own."""
    members, bins = teacher_fingerprint.get("members", {}), int(params["calibration_bins"])
    return teacher_scores(soft_targets, examples, members, label_names, bins)


def score_model(
    model: StudentClassifier | BaselineClassifier,
    examples: pd.DataFrame,
    soft_targets: pd.DataFrame,
    label_names: list[str],
    params: dict[str, Any],
) -> dict[str, Any]:
    """A student's or baseline's test scores, end to end from the raw test texts, against the labels
    and the teacher."""
    return model_scores(model, soft_targets, examples, label_names, int(params["calibration_bins"]))


def score_across_seeds(
    seeds: tuple[int, ...], **logs_and_scores: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """Per student: its seeds and each scalar test score at every seed (the kept model's first),
    mean and sample standard deviation. ``logs_and_scores``: the training log and the test scores of
    each student and of its variant at each of ``seeds``, by their dataset names."""

    def runs(model: str, kind: str) -> list[dict[str, Any]]:
        variants = [logs_and_scores[seed_dataset(model, seed, kind)] for seed in seeds]
        return [logs_and_scores[f"{model}_{kind}"], *variants]

    return {
        model: across_seeds(model, runs(model, "training_log"), runs(model, "scores")) for model in STUDENTS
    }


def profile_models(
    examples: pd.DataFrame, params: dict[str, Any], **models: Model
) -> dict[str, dict[str, float]]:
    """Per model (teacher, students, baselines): parameters, size on disk, throughput end to end and
    model-only, latency at batch 1; one process, the same threads, the models taking turns."""
    torch.set_num_threads(int(params["threads"]))
    test = examples.loc[examples["split"] == "test", "text"].tolist()
    speed_texts, latency_texts = test[: int(params["speed_texts"])], test[: int(params["latency_texts"])]
    rounds, min_seconds = int(params["speed_rounds"]), float(params["speed_min_seconds"])
    measured = profile(models, speed_texts, latency_texts, int(params["batch_size"]), rounds, min_seconds)
    logger.info("Speed with %s threads: %s", params["threads"], measured)
    return measured


def summarise(
    teacher_scores: dict[str, Any],
    student_scores: dict[str, Any],
    student_alone_scores: dict[str, Any],
    across_seeds: dict[str, dict[str, Any]],
    profile: dict[str, dict[str, float]],
    row_accounting: dict[str, Any],
    split_report: dict[str, Any],
    teacher_fingerprint: dict[str, Any],
    teacher_labelling: dict[str, Any],
    params: dict[str, Any],
    test_examples: pd.DataFrame,
    **baseline_scores: dict[str, Any],
) -> tuple[dict[str, Any], str, dict[str, dict[str, float]]]:
    """The JSON summary, the markdown report and the metrics tracked in MLflow. ``baseline_scores``:
    one entry per reference baseline, ``baseline_<name>``; ``test_examples``, recorded as the test
    split the scores are on (``test_split``: rows and a hash of the texts and labels)."""
    scores = {"teacher": teacher_scores, "student": student_scores, "student_alone": student_alone_scores}
    scores.update(baseline_scores)
    context = {
        "rows": row_accounting,
        "labels": split_report,
        "teacher_fingerprint": teacher_fingerprint["fingerprint"],
        "teacher_labelling": teacher_labelling,
        "test_split": fingerprint_test_split(test_examples),
        **{key: params[key] for key in ("threads", "batch_size", "calibration_bins")},
    }
    weights = teacher_fingerprint.get("weights")
    summary = summarise_scores(scores, across_seeds, profile, context, list(baseline_scores), weights)
    return summary, render_report(summary, scores), summary_metrics(summary, list(scores))


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
    scores = {"teacher": teacher_scores, "student": student_scores, "student_alone": student_alone_scores}
    histories = {
        "student": student_training_log["history"],
        "student_alone": student_alone_training_log["history"],
    }
    return plots.evaluation_figures({**scores, **baseline_scores}, profile, histories, label_names)
