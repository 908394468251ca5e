"""Evaluate: scores from hand-made predictions, throughput measurement, the summary and report."""

import numpy as np
import pytest
from matplotlib.figure import Figure

from text_distill.distill.data.soft_targets import soft_target_table
from text_distill.distill.data.splits import fingerprint_test_split
from text_distill.distill.data.vocab import PAD, UNK
from text_distill.distill.evaluation.scores import SCALAR_SCORES as SCALARS
from text_distill.distill.evaluation.scores import (
    STUDENTS,
    SeedVariantMismatchError,
    against_best_baseline,
    serialised_size,
)
from text_distill.distill.evaluation.speed import (
    interleaved_latency,
    interleaved_throughput,
    texts_per_second,
)
from text_distill.distill.models.baselines import BASELINES, fit_baseline
from text_distill.distill.models.student import StudentClassifier
from text_distill.distill.students.bilstm import BiLSTMClassifier
from text_distill.pipelines.evaluate.nodes import (
    plot_evaluation,
    profile_models,
    score_across_seeds,
    score_model,
    score_teacher,
    summarise,
)
from text_distill.pipelines.evaluate.pipeline import across_seeds_inputs
from text_distill.variants import seed_dataset

MODELS = ("teacher", "student", "student_alone")

PARAMS = {
    "threads": 1,
    "batch_size": 2,
    "speed_texts": 4,
    "speed_rounds": 1,
    "speed_min_seconds": 0.01,
    "latency_texts": 3,
    "calibration_bins": 10,
}

ROWS = {
    "rows_in": 10,
    "kept": 8,
    "unlabelled": 0,
    "quarantined": 1,
    "duplicates_collapsed": 1,
    "quarantined_by_reason": {"x": 1},
}
SPLITS = {
    "label_budget": 4,
    "labelled": {"train": 4, "dev": 2, "test": 2},
    "labels_learnt_from": 6,
    "unlabelled": {"train_over_budget": 2, "dev_over_budget": 0, "corpus_without_label": 1},
    "full_split": {"train": 6, "dev": 2},
}
LABELLING = {
    "transfer_rows": 30,
    "rows_by_source": {"labelled": 10, "augmented": 20},
    "teacher_forward_texts": 18,
    "store_hits": 10,
    "repeated_texts": 2,
}


def test_teacher_scores_come_from_its_cached_test_logits(examples_frame):
    logits = np.zeros((len(examples_frame), 2), dtype=np.float32)
    logits[:, 0] = 1.0  # always predicts class 0 ("sports" here)
    cache = soft_target_table(examples_frame, logits, "f" * 64)
    scores = score_teacher(cache, examples_frame, {"fingerprint": "f" * 64}, ["sports", "finance"], PARAMS)
    assert scores["test_rows"] == 2
    assert scores["accuracy"] == 0.5
    assert scores["macro_f1"] == pytest.approx((2 / 3 + 0) / 2)
    assert scores["per_class"]["sports"]["recall"] == 1.0
    assert scores["confusion_matrix"] == [[1, 0], [1, 0]]
    assert scores["fidelity"] == 1.0 and scores["kl_to_teacher"] == pytest.approx(0.0, abs=1e-12)
    # confidence softmax([1, 0]) = 0.731 on both, one right: ECE = |0.5 - 0.731|
    assert scores["ece"] == pytest.approx(abs(0.5 - 1 / (1 + np.exp(-1))))


def tiny_student(label_names: list[str]) -> StudentClassifier:
    model = BiLSTMClassifier(6, 2, embedding_dim=4, hidden_size=4, dropout=0.0)
    return StudentClassifier(model, [PAD, UNK, "中", "国", "股", "市"], "char", label_names, 8).eval()


def test_student_scores_compare_with_the_labels_and_the_teacher(examples_frame):
    labels = ["sports", "finance"]
    student = tiny_student(labels)
    test = examples_frame[examples_frame["split"] == "test"]
    own = student.predict_logits(test["text"].tolist())
    teacher_logits = np.zeros((len(examples_frame), 2), dtype=np.float32)
    teacher_logits[examples_frame["split"] == "test"] = -own  # a teacher that always disagrees
    cache = soft_target_table(examples_frame, teacher_logits, "f" * 64)
    scores = score_model(student, examples_frame, cache, labels, PARAMS)
    assert scores["fidelity"] == 0.0 and scores["kl_to_teacher"] > 0
    assert scores["accuracy"] == float((own.argmax(1) == test["label_id"].to_numpy()).mean())
    assert sum(row["count"] for row in scores["reliability"]) == len(test)


def test_scores_across_seeds_have_mean_and_sample_std(examples_frame):
    labels = ["sports", "finance"]
    cache = soft_target_table(examples_frame, np.zeros((len(examples_frame), 2), np.float32), "f" * 64)
    runs = [score_model(tiny_student(labels), examples_frame, cache, labels, PARAMS) for _ in range(3)]
    recipe = {"model": {"architecture": "bilstm"}}
    inputs = {}  # dataset name -> what it holds, as the node's inputs
    for model in STUDENTS:
        for seed, scores in zip((5, 6, 7), runs, strict=True):
            prefix = model if seed == 5 else seed_dataset(model, seed)
            inputs[f"{prefix}_training_log"] = {"seed": seed, "recipe": recipe}
            inputs[f"{prefix}_scores"] = scores
    assert sorted(inputs) == sorted(across_seeds_inputs((6, 7)))  # what the pipeline wires

    student = score_across_seeds((6, 7), **inputs)["student"]
    accuracy = student["accuracy"]
    assert student["seeds"] == [5, 6, 7]
    assert accuracy["values"] == [run["accuracy"] for run in runs]
    assert accuracy["mean"] == pytest.approx(np.mean(accuracy["values"]))
    assert accuracy["std"] == pytest.approx(np.std(accuracy["values"], ddof=1))
    # a seed variant left from another recipe is refused, not averaged in
    inputs["student_alone_seed_7_training_log"] = {"seed": 7, "recipe": {"model": {"architecture": "ngram"}}}
    with pytest.raises(SeedVariantMismatchError, match="student_alone at seed 7 trained another recipe"):
        score_across_seeds((6, 7), **inputs)


def test_profile_measures_size_speed_and_latency_of_every_model(examples_frame):
    labels = ["sports", "finance"]
    models = {name: tiny_student(labels) for name in MODELS}  # any model with encode/predict_logits
    examples = examples_frame.assign(split="test")
    models["baseline_tfidf_char_svm"] = fit_baseline(
        BASELINES["tfidf_char_svm"],
        "jieba",
        (examples["text"].tolist(), examples["label_id"].to_numpy()),
        (examples["text"].tolist(), examples["label_id"].to_numpy()),
        labels,
        [1.0],
    )[0]
    profile = profile_models(examples, PARAMS, **models)
    for name, model in models.items():
        row = profile[name]
        assert row["size_bytes"] == serialised_size(model) > 0
        assert row["texts_per_second"] > 0 and row["model_texts_per_second"] > 0
        assert 0 < row["latency_p50_ms"] <= row["latency_p95_ms"]
    assert profile["student"]["params"] == sum(p.numel() for p in models["student"].parameters())
    svm = models["baseline_tfidf_char_svm"].svm
    assert profile["baseline_tfidf_char_svm"]["params"] == svm.coef_.size + svm.intercept_.size


def test_throughput_counts_texts_over_time():
    calls = []
    rate = texts_per_second(calls.append, ["a"] * 10, min_seconds=0.05)
    assert len(calls) >= 1 and 0 < rate <= len(calls) * 10 / 0.05  # it ran at least min_seconds
    speeds = interleaved_throughput({"x": lambda: 4, "y": lambda: sum(range(20000)) * 0 + 4}, 2, 0.01)
    assert speeds["x"] > speeds["y"] > 0
    latency = interleaved_latency({"x": lambda t: None, "y": lambda t: sum(range(20000))}, ["a"] * 20)
    assert 0 < latency["x"]["latency_p95_ms"] < latency["y"]["latency_p50_ms"]


def test_summary_report_and_metrics(examples_frame):
    scores = {
        name: {
            "accuracy": acc,
            "macro_f1": acc - 0.01,
            "fidelity": 0.95,
            "kl_to_teacher": 0.1,
            "ece": 0.02,
            "per_class": {"a": {"precision": 1.0, "recall": 1.0, "f1-score": 1.0, "support": 1}},
            "test_rows": 4,
        }
        for name, acc in zip((*MODELS, "baseline_x"), (0.9, 0.85, 0.8, 0.86), strict=True)
    }
    profile = {
        name: {
            "params": p,
            "size_bytes": p * 4,
            "texts_per_second": tps,
            "model_texts_per_second": tps * 2,
            "latency_p50_ms": 1.0,
            "latency_p95_ms": 2.0,
        }
        for name, tps, p in zip(
            (*MODELS, "baseline_x"), (100.0, 5000.0, 5100.0, 9000.0), (1000, 10, 10, 20), strict=True
        )
    }
    across = {
        name: {
            "seeds": [1, 2],
            **{key: {"values": [0.8, 0.9], "mean": 0.85, "std": 0.0707} for key in SCALARS},
        }
        for name in MODELS[1:]
    }
    baseline = scores.pop("baseline_x")
    summary, report, metrics = summarise(
        *scores.values(),
        across,
        profile,
        ROWS,
        SPLITS,
        {"fingerprint": "f" * 64},
        LABELLING,
        PARAMS,
        examples_frame,
        baseline_x=baseline,
    )
    assert summary["student"] == {
        "accuracy": 0.85,
        "macro_f1": 0.84,
        "fidelity": 0.95,
        "kl_to_teacher": 0.1,
        "ece": 0.02,
        **profile["student"],
    }
    assert summary["rows"] == ROWS and summary["teacher_fingerprint"] == "f" * 64
    # the test split the scores are on: its rows and a hash of them, whatever their order
    assert summary["test_split"]["rows"] == 2 and len(summary["test_split"]["sha256"]) == 64
    shuffled = examples_frame.sample(frac=1, random_state=0).assign(
        example_id=lambda f: f["example_id"] + 100
    )
    assert fingerprint_test_split(shuffled) == summary["test_split"]
    relabelled = examples_frame.assign(
        label=examples_frame["label"].where(examples_frame["split"] != "test", "x")
    )
    assert fingerprint_test_split(relabelled)["sha256"] != summary["test_split"]["sha256"]
    assert summary["student_speedup"] == 50.0
    assert metrics["student_alone_accuracy"] == {"value": 0.8, "step": 0}
    assert metrics["rows_quarantined"] == {"value": 1.0, "step": 0}
    assert "| student | 0.8500 | 0.8400 | 0.9500 | 0.1000 | 0.0200 |" in report
    assert "| student | 10 | 0.0 | 5000.0 | 10000.0 | 1.00 | 2.00 | 50.0x |" in report
    assert "the test split was used for nothing but this report" in report
    assert metrics["student_latency_p95_ms"] == {"value": 2.0, "step": 0}
    assert metrics["student_alone_accuracy_std"] == {"value": 0.0707, "step": 0}
    assert "| student_alone | 1, 2 | 0.8500 ± 0.0707 |" in report
    assert "10 in = 8 kept + 0 without a label + 1 quarantined + 1 duplicates collapsed" in report
    assert "Label budget: 4 train rows" in report and metrics["labelled_train_rows"]["value"] == 4
    assert "| baselines, student_alone | 4 | 0 |" in report
    assert "| student (hard-label term; KD term over every text) | 4 | 23 (2 train and 0 dev rows" in report
    assert "30 rows (10 labelled, 20 augmented); the teacher scored 18 texts" in report
    assert summary["teacher_labelling"] == LABELLING
    # the baseline is a row like the others, and the report says who beats it (students by seed mean)
    assert "| baseline_x | 0.8600 | 0.8500 | 0.9500 | 0.1000 | 0.0200 |" in report
    assert metrics["baseline_x_texts_per_second"] == {"value": 9000.0, "step": 0}
    assert summary["against_best_baseline"]["baseline"] == "baseline_x"
    assert (
        "| student | 0.8500 | -1.00 | **no** |" in report
        and "| teacher | 0.9000 | +4.00 | **yes** |" in report
    )
    assert metrics["student_margin_over_best_baseline"]["value"] == pytest.approx(-1.0)
    assert metrics["best_baseline_accuracy"] == {"value": 0.86, "step": 0}


def test_the_best_baseline_is_the_most_accurate_and_students_are_judged_by_their_seed_mean():
    summary = {
        "teacher": {"accuracy": 0.93},
        "student": {"accuracy": 0.92},
        "student_alone": {"accuracy": 0.90},
        "baseline_a": {"accuracy": 0.915},
        "baseline_b": {"accuracy": 0.905},
        "across_seeds": {"student": {"accuracy": {"mean": 0.912}}},  # the kept seed was lucky
    }
    verdict = against_best_baseline(summary, ["baseline_a", "baseline_b"])
    assert verdict["baseline"] == "baseline_a" and verdict["accuracy"] == 0.915
    assert verdict["student"]["beats"] is False
    assert verdict["student"]["margin_points"] == pytest.approx(-0.3)
    assert verdict["teacher"]["beats"] is True and verdict["student_alone"]["accuracy"] == 0.90
    assert against_best_baseline(summary, []) == {}


def test_plots_are_figures_of_every_model():
    scores = {
        "confusion_matrix": [[2, 1], [0, 3]],
        "reliability": [
            {"lower": 0.5, "upper": 1.0, "count": 6, "confidence": 0.8, "accuracy": 0.83},
            {"lower": 0.0, "upper": 0.5, "count": 0, "confidence": None, "accuracy": None},
        ],
        "accuracy": 0.8,
    }
    profile = {name: {"texts_per_second": 10.0} for name in MODELS}
    history = {"history": [{"epoch": 1, "train_loss": 1.0, "train_hard": 0.5, "dev_macro_f1": 0.7}]}
    profile["baseline_x"] = {"texts_per_second": 20.0}
    figures = plot_evaluation(
        scores, scores, scores, profile, history, history, ["a", "b"], baseline_x=scores
    )
    assert len(figures) == 4 and all(isinstance(figure, Figure) for figure in figures)
    assert len(figures[0].axes) == 5  # four matrices (the baseline's too) and their colour bar
    assert len(figures[2].axes[0].collections) == 4  # a point per model on accuracy against speed
    lines = figures[3].axes[0].get_lines()
    assert len(lines) == 4  # loss and hard, for each student
