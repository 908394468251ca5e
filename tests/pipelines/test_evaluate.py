"""Evaluate: scores from hand-made predictions, throughput measurement, the summary and report."""

import numpy as np
import pytest

from text_distill.distill.soft_targets import soft_target_table
from text_distill.distill.speed import interleaved_throughput, texts_per_second
from text_distill.pipelines.evaluate.nodes import MODELS, score_teacher, summarise

ROWS = {
    "rows_in": 10,
    "kept": 8,
    "quarantined": 1,
    "duplicates_collapsed": 1,
    "quarantined_by_reason": {"x": 1},
}


def test_teacher_scores_come_from_its_cached_test_logits(examples_frame):
    logits = np.zeros((len(examples_frame), 2), dtype=np.float32)
    logits[:, 0] = 1.0  # always predicts class 0 ("sports" here)
    cache = soft_target_table(examples_frame, logits, "f" * 64)
    scores = score_teacher(cache, examples_frame, {"fingerprint": "f" * 64}, ["sports", "finance"])
    assert scores["test_rows"] == 2
    assert scores["accuracy"] == 0.5
    assert scores["macro_f1"] == pytest.approx((2 / 3 + 0) / 2)
    assert scores["per_class"]["sports"]["recall"] == 1.0


def test_throughput_counts_texts_over_time():
    calls = []
    rate = texts_per_second(calls.append, ["a"] * 10, min_seconds=0.05)
    assert len(calls) >= 1 and 0 < rate <= len(calls) * 10 / 0.05  # it ran at least min_seconds
    speeds = interleaved_throughput(
        {"x": lambda t: None, "y": lambda t: sum(range(20000))}, ["a"] * 4, 2, 0.01
    )
    assert speeds["x"] > speeds["y"] > 0


def test_summary_report_and_metrics():
    scores = {
        name: {
            "accuracy": acc,
            "macro_f1": acc - 0.01,
            "per_class": {"a": {"precision": 1.0, "recall": 1.0, "f1-score": 1.0, "support": 1}},
            "test_rows": 4,
        }
        for name, acc in zip(MODELS, (0.9, 0.85, 0.8), strict=True)
    }
    profile = {
        name: {"texts_per_second": tps, "params": p}
        for name, tps, p in zip(MODELS, (100.0, 5000.0, 5100.0), (1000, 10, 10), strict=True)
    }
    summary, report, metrics = summarise(
        *scores.values(), profile, ROWS, {"fingerprint": "f" * 64}, {"threads": 1}
    )
    assert summary["student"] == {
        "accuracy": 0.85,
        "macro_f1": 0.84,
        "texts_per_second": 5000.0,
        "params": 10,
    }
    assert summary["rows"] == ROWS and summary["teacher_fingerprint"] == "f" * 64
    assert summary["student_speedup"] == 50.0
    assert metrics["student_alone_accuracy"] == {"value": 0.8, "step": 0}
    assert metrics["rows_quarantined"] == {"value": 1.0, "step": 0}
    assert "| student | 0.8500 | 0.8400 | 5000.0 | 10 | 50.0x |" in report
    assert "10 in = 8 kept + 1 quarantined + 1 duplicates collapsed" in report
