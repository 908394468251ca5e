"""Normalisation, segmentation, vocabularies and vector matrices."""

import numpy as np

from text_distill.distill.data.text import normalise_text, segment_chars, segment_words, text_hash
from text_distill.distill.data.vocab import PAD, UNK, build_vocabulary, vector_matrix


def test_normalise_text_folds_width_and_whitespace():
    assert normalise_text("  ＡＢＣ１２３\u3000中国\t\n队  ") == "ABC123 中国 队"
    assert text_hash("中国") == text_hash(normalise_text(" 中国 "))


def test_segmenters_drop_whitespace():
    assert segment_words("中国队 夺得冠军") == ["中国队", "夺得", "冠军"]
    assert segment_chars("中 国") == ["中", "国"]


def test_vocabulary_orders_by_frequency_with_min_freq_and_cap():
    tokens = [["b", "a", "a"], ["c", "a", "b"], ["d"]]
    assert build_vocabulary(tokens, min_freq=2) == [PAD, UNK, "a", "b"]
    assert build_vocabulary(tokens, min_freq=1, max_size=4) == [PAD, UNK, "a", "b"]
    assert build_vocabulary(tokens, min_freq=1) == [PAD, UNK, "a", "b", "c", "d"]


def test_vector_matrix_uses_pretrained_rows_and_zero_padding():
    lookup = {"a": np.ones(3), "c": np.full(3, 2.0)}
    matrix, found = vector_matrix([PAD, UNK, "a", "b", "c"], lookup, dim=3, seed=0)
    assert found == 2
    np.testing.assert_array_equal(matrix[0], 0.0)
    np.testing.assert_array_equal(matrix[2], 1.0)
    np.testing.assert_array_equal(matrix[4], 2.0)
    assert matrix.dtype == np.float32 and np.abs(matrix[3]).sum() > 0
