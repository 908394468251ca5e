"""Scores beyond accuracy: agreement with the teacher (fidelity), KL to the teacher, calibration.

Plain numpy on logits; the per-class and averaged scores come from scikit-learn in the evaluate stage.
"""

import numpy as np
import pandas as pd
from scipy.special import log_softmax, softmax


def fidelity(student_logits: np.ndarray, teacher_logits: np.ndarray) -> float:
    """Share of examples where the student predicts the teacher's class."""
    return float((student_logits.argmax(axis=1) == teacher_logits.argmax(axis=1)).mean())


def mean_kl_to_teacher(student_logits: np.ndarray, teacher_logits: np.ndarray) -> float:
    """Mean over examples of KL(teacher || student) between their softmax distributions (T = 1), nats."""
    log_teacher = log_softmax(teacher_logits.astype(np.float64), axis=1)
    log_student = log_softmax(student_logits.astype(np.float64), axis=1)
    return float((np.exp(log_teacher) * (log_teacher - log_student)).sum(axis=1).mean())


def reliability_bins(logits: np.ndarray, labels: np.ndarray, bins: int = 15) -> pd.DataFrame:
    """Examples grouped by confidence (top softmax probability) into ``bins`` equal-width bins over
    [0, 1]: per bin its range, count, mean confidence and accuracy (empty bins kept, with NaN)."""
    probabilities = softmax(logits.astype(np.float64), axis=1)
    confidence = probabilities.max(axis=1)
    correct = (probabilities.argmax(axis=1) == np.asarray(labels)).astype(np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    # right-closed bins, (lo, hi]; a confidence of exactly 0 cannot happen for a softmax
    index = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, bins - 1)
    frame = pd.DataFrame({"bin": index, "confidence": confidence, "correct": correct})
    grouped = frame.groupby("bin").agg(
        count=("correct", "size"), confidence=("confidence", "mean"), accuracy=("correct", "mean")
    )
    grouped = grouped.reindex(range(bins))
    grouped["count"] = grouped["count"].fillna(0).astype(int)
    grouped.insert(0, "lower", edges[:-1])
    grouped.insert(1, "upper", edges[1:])
    return grouped.reset_index(drop=True)


def expected_calibration_error(logits: np.ndarray, labels: np.ndarray, bins: int = 15) -> float:
    """ECE: the count-weighted mean over confidence bins of |accuracy - mean confidence|."""
    table = reliability_bins(logits, labels, bins)
    filled = table[table["count"] > 0]
    gaps = (filled["accuracy"] - filled["confidence"]).abs()
    return float((gaps * filled["count"]).sum() / filled["count"].sum())
