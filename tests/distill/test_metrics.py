"""Fidelity, KL to the teacher and calibration on hand-made logits."""

import numpy as np
import pytest

from text_distill.distill.evaluation.metrics import (
    expected_calibration_error,
    fidelity,
    mean_kl_to_teacher,
    reliability_bins,
)


def logits_for(probabilities: list[list[float]]) -> np.ndarray:
    """Logits whose softmax is ``probabilities``."""
    return np.log(np.asarray(probabilities, dtype=np.float64))


def test_fidelity_counts_agreement_with_the_teacher_not_with_labels():
    teacher = np.array([[2.0, 0.0], [0.0, 2.0], [2.0, 0.0], [0.0, 1.0]])
    student = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0], [1.0, 0.0]])
    assert fidelity(student, teacher) == 0.5


def test_kl_to_the_teacher_by_hand():
    teacher = logits_for([[0.5, 0.5], [0.9, 0.1]])
    student = logits_for([[0.5, 0.5], [0.6, 0.4]])
    by_hand = (0.0 + (0.9 * np.log(0.9 / 0.6) + 0.1 * np.log(0.1 / 0.4))) / 2
    assert mean_kl_to_teacher(student, teacher) == pytest.approx(by_hand)
    assert mean_kl_to_teacher(teacher, teacher) == pytest.approx(0.0, abs=1e-12)


def test_ece_by_hand():
    # confidences 0.9, 0.9 (one right, one wrong) and 0.6, 0.6 (both right), two bins
    logits = logits_for([[0.9, 0.1], [0.9, 0.1], [0.6, 0.4], [0.4, 0.6]])
    labels = np.array([0, 1, 0, 1])
    # bin (0.5, 1.0] holds all four: accuracy 0.75, mean confidence 0.75 -> ECE 0
    assert expected_calibration_error(logits, labels, bins=2) == pytest.approx(0.0, abs=1e-12)
    # ten bins: (0.8, 0.9] has acc 0.5 vs conf 0.9; (0.5, 0.6] has acc 1 vs conf 0.6
    assert expected_calibration_error(logits, labels, bins=10) == pytest.approx(0.5 * 0.4 + 0.5 * 0.4)


def test_reliability_bins_keep_empty_bins_and_count_every_example():
    logits = logits_for([[0.95, 0.05], [0.55, 0.45], [0.52, 0.48]])
    table = reliability_bins(logits, np.array([0, 1, 0]), bins=5)
    assert table["count"].tolist() == [0, 0, 2, 0, 1]
    assert table.loc[2, "accuracy"] == 0.5 and table.loc[4, "accuracy"] == 1.0
    assert np.isnan(table.loc[0, "accuracy"])
    assert table["lower"].tolist() == pytest.approx([0.0, 0.2, 0.4, 0.6, 0.8])
