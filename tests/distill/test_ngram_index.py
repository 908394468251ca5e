"""The integer-key n-gram index gives exactly the ids of the string path, batch by batch."""

import numpy as np
import pytest
import torch

from text_distill.distill.data.text import Segmenter, ngram_features, normalise_text
from text_distill.distill.data.vocab import UNK, build_vocabulary
from text_distill.distill.models.ngram_index import NgramIndex
from text_distill.distill.models.student import StudentClassifier
from text_distill.distill.students.ngram import BagOfNgramsClassifier

TRAIN = [["体育", "新闻", "今天"], ["股市", "大涨"], ["a|b", "新闻"], ["新闻", UNK, "今天"], ["今天"]]
# unseen words and characters, masked words, a word with the n-gram joiner, one character, nothing
CASES = [
    ["体育", "新闻", "今天"],
    ["足球", "新闻"],
    ["股市", "大涨", "股市", "大涨"],
    ["体育", UNK, "新闻"],
    ["a|b", "新闻"],
    ["|"],
    ["今"],
    [],
    ["𠀀", "新闻", "😀"],
]


def string_ids(
    token_ids: dict[str, int], words: list[str], char_ngrams, word_ngrams, max_tokens
) -> list[int]:
    features = ngram_features(words, char_ngrams, word_ngrams)[:max_tokens]
    return [token_ids.get(feature, token_ids[UNK]) for feature in features] or [token_ids[UNK]]


def fallback(token_ids, char_ngrams, word_ngrams, max_tokens):
    """The string path without the empty text's ``<unk>`` (the index adds it)."""
    return lambda words: [
        token_ids.get(feature, token_ids[UNK])
        for feature in ngram_features(words, char_ngrams, word_ngrams)[:max_tokens]
    ]


@pytest.mark.parametrize("char_ngrams, word_ngrams", [((1, 3), (1, 2)), ((2, 4), (1, 3)), ((1, 1), (2, 2))])
@pytest.mark.parametrize("max_tokens", [3, 512])
def test_ids_equal_the_string_path(char_ngrams, word_ngrams, max_tokens):
    vocabulary = build_vocabulary((ngram_features(w, char_ngrams, word_ngrams) for w in TRAIN), min_freq=1)
    token_ids = {token: i for i, token in enumerate(vocabulary)}
    index = NgramIndex(
        token_ids,
        char_ngrams,
        word_ngrams,
        max_tokens,
        fallback(token_ids, char_ngrams, word_ngrams, max_tokens),
    )

    flat, lengths = index.ids(CASES)

    expected = [string_ids(token_ids, words, char_ngrams, word_ngrams, max_tokens) for words in CASES]
    assert lengths.tolist() == [len(ids) for ids in expected]
    assert flat.tolist() == [i for ids in expected for i in ids]
    assert flat.tolist() != [token_ids[UNK]] * len(flat)  # the cases do hit the vocabulary


def test_an_empty_batch_and_a_vocabulary_without_ngrams():
    token_ids = {"<pad>": 0, UNK: 1}
    index = NgramIndex(token_ids, (1, 3), (1, 2), 10, fallback(token_ids, (1, 3), (1, 2), 10))
    assert [a.tolist() for a in index.ids([])] == [[], []]
    flat, lengths = index.ids([["新闻"], []])
    assert lengths.tolist() == [len(ngram_features(["新闻"])), 1]
    assert set(flat.tolist()) == {1}


def test_the_student_encodes_alike_with_and_without_the_index():
    segmenter = Segmenter("ngram", "jieba", (1, 3), (1, 2))
    texts = ["体育新闻今天", "股市大涨", "", "足球 a|b 新闻", "😀"]
    vocabulary = build_vocabulary((segmenter(text) for text in texts[:2]), min_freq=1)
    model = BagOfNgramsClassifier(len(vocabulary), 2, embedding_dim=4)
    student = StudentClassifier(model, vocabulary, "ngram", ["a", "b"], max_tokens=8, segmenter=segmenter)

    fast = student.encode(texts)
    slow = student.batch([student.ids(segmenter(normalise_text(text))) for text in texts])

    assert student.fast_encoder is not None
    for got, expected in zip(fast, slow, strict=True):
        assert torch.equal(got, expected)
    assert np.allclose(student.predict_logits(texts), student(*slow).detach().numpy())


def test_keys_that_would_not_fit_in_int64_are_refused():
    words = [f"w{i}" for i in range(3000)]
    token_ids = {"<pad>": 0, UNK: 1, **{f"w:{word}": i + 2 for i, word in enumerate(words)}}
    with pytest.raises(OverflowError, match="int64"):
        NgramIndex(token_ids, (1, 3), (1, 6), 10, fallback(token_ids, (1, 3), (1, 6), 10))
