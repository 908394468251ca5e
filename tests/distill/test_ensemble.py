"""Choosing the teacher members' weights on dev."""

import numpy as np
import pytest

from text_distill.distill.models.ensemble import choose_weights, weight_grid


def one_hot(labels: list[int], scale: float = 1.0) -> np.ndarray:
    return np.eye(3, dtype=np.float32)[labels] * scale


def test_the_grid_covers_the_simplex_smallest_share_first():
    grid = weight_grid(2, 4)
    assert len(grid) == 15  # (4 + 1)(4 + 2) / 2 points with w1 + w2 <= 1
    assert grid[0] == (0.0, 0.0) and grid[-1] == (0.0, 1.0)
    assert [sum(w) for w in grid] == sorted(sum(w) for w in grid)
    assert weight_grid(1, 2) == [(0.0,), (0.5,), (1.0,)]


def test_two_ngram_members_that_fix_different_mistakes_both_get_a_share():
    labels = np.array([0, 1, 2, 0, 1, 2])
    transformer = one_hot([0, 1, 2, 1, 2, 2])  # wrong on rows 3 and 4
    char, word = np.zeros((6, 3), np.float32), np.zeros((6, 3), np.float32)
    char[3, 0] = word[4, 1] = 3.0  # each sure of one of those rows, silent elsewhere

    weights, report = choose_weights([transformer], {"char": char, "word": word}, labels, steps=4)

    assert report["dev_accuracy"] == 1.0
    assert report["ngram_weights"]["char"] > 0 and report["ngram_weights"]["word"] > 0
    assert weights == pytest.approx(
        [1 - sum(report["ngram_weights"].values()), *report["ngram_weights"].values()]
    )
    assert report["dev_accuracy_transformers_alone"] == pytest.approx(4 / 6)
    assert report["ngram_weights"] == {"char": 0.25, "word": 0.25}  # the smallest shares that do it
    assert report["dev_accuracy_ngram_alone"] == {"char": pytest.approx(2 / 6), "word": pytest.approx(3 / 6)}
    assert report["dev_accuracy_by_ngram_weights"]["0,0"] == pytest.approx(4 / 6)
    assert len(report["dev_accuracy_by_ngram_weights"]) == len(weight_grid(2, 4))


def test_equals_keep_the_transformers():
    labels = np.array([0, 1, 2])
    right = one_hot([0, 1, 2])
    weights, report = choose_weights([right, right], {"char": right}, labels, steps=10)
    assert weights == [0.5, 0.5, 0.0] and report["ngram_weights"] == {"char": 0.0}
