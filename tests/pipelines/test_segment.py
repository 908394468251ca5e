"""Segment: words and characters per example, a train-only vocabulary, vectors with coverage."""

import numpy as np
import pytest
from gensim.models import KeyedVectors

from text_distill.distill.data.vocab import PAD, UNK
from text_distill.pipelines.segment.nodes import (
    build_char_vocabulary,
    build_embeddings,
    build_word_vocabulary,
    segment_examples,
)


def test_segments_every_example_into_words_and_characters(examples_frame):
    segmented, _ = segment_examples(examples_frame, {"segmenter": "jieba"})
    assert segmented["example_id"].tolist() == examples_frame["example_id"].tolist()
    first = segmented.iloc[0]
    assert "".join(first["words"]) == "".join(first["chars"]) == examples_frame.loc[0, "text"]
    assert len(first["words"]) < len(first["chars"])


def test_vocabulary_comes_from_the_train_split_only(examples_frame):
    segmented, _ = segment_examples(examples_frame, {"segmenter": "jieba"})
    vocabulary = build_word_vocabulary(segmented, {"min_freq": 1, "max_size": None})
    test_only = {word for words in segmented.loc[segmented["split"] == "test", "words"] for word in words}
    train = {word for words in segmented.loc[segmented["split"] == "train", "words"] for word in words}
    assert vocabulary[:2] == [PAD, UNK]
    assert set(vocabulary[2:]) == train
    assert not (test_only - train) & set(vocabulary)


def test_embeddings_take_pretrained_vectors_and_report_coverage():
    vectors = KeyedVectors(vector_size=4)
    vectors.add_vectors(["冠军", "股市"], np.array([[1, 1, 1, 1], [2, 2, 2, 2]], dtype=np.float32))
    matrix, coverage = build_embeddings([PAD, UNK, "冠军", "股市", "没有向量"], vectors, {"seed": 0})
    assert matrix.shape == (5, 4)
    np.testing.assert_array_equal(matrix[3], 2.0)
    assert coverage == {"vocabulary_size": 3, "with_vector": 2, "coverage": 0.6667, "dim": 4}


def test_char_vocabulary_keeps_the_most_frequent_train_characters(examples_frame):
    segmented, _ = segment_examples(examples_frame, {"segmenter": "jieba"})
    vocabulary = build_char_vocabulary(segmented, {"min_freq": 1, "max_size": 5})
    assert len(vocabulary) == 5 and vocabulary[:2] == [PAD, UNK]
    train_chars = [c for chars in segmented.loc[segmented["split"] == "train", "chars"] for c in chars]
    counts = {c: train_chars.count(c) for c in vocabulary[2:]}
    assert min(counts.values()) >= max(train_chars.count(c) for c in set(train_chars) - set(vocabulary))


@pytest.mark.parametrize("segmenter", ["jieba", "rjieba"])
def test_the_word_segmenter_is_chosen_by_name_and_recorded(examples_frame, segmenter):
    frame = examples_frame.assign(text=["EB-5签证新政出台"] * len(examples_frame))
    segmented, spec = segment_examples(frame, {"segmenter": segmenter})
    assert spec == {"segmenter": segmenter}  # the students carry it to serving
    expected = {"jieba": ["EB", "-", "5", "签证", "新政", "出台"], "rjieba": ["EB-5", "签证", "新政", "出台"]}
    assert list(segmented["words"].iloc[0]) == expected[segmenter]
    with pytest.raises(ValueError, match="segment.segmenter must be one of"):
        segment_examples(frame, {"segmenter": "thulac"})
