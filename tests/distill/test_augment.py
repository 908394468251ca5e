"""Tang et al.'s three augmentation rules, each alone, and the alignment of the two views."""

from collections import Counter

import numpy as np
import pytest

from text_distill.distill.data.augment import (
    MASK,
    AugmentConfig,
    PosVocabulary,
    augment_once,
    augment_text,
    jieba_tokens,
    pos_tag,
)
from text_distill.distill.data.text import segment_words

VOCABULARY = PosVocabulary(Counter({"上海": 3, "广州": 1, "发布": 2}))
ONLY = dict(p_mask=0.0, p_pos=0.0, p_ng=0.0)


def test_masking_alone_masks_every_word_and_keeps_whitespace():
    copy = augment_once(
        jieba_tokens("Apple 发布 新手机"),
        VOCABULARY,
        AugmentConfig(**{**ONLY, "p_mask": 1.0}),
        np.random.default_rng(0),
    )
    assert copy.student_words() == [MASK] * len(segment_words("Apple 发布 新手机"))
    assert copy.teacher_text("[MASK]") == " ".join(
        ["[MASK]"] + ["[MASK]"] + ["[MASK]" * len(segment_words("新手机"))]
    )


def test_pos_replacement_draws_a_train_word_of_the_same_tag_by_frequency():
    assert pos_tag("北京") == pos_tag("上海") == "ns"
    config = AugmentConfig(**{**ONLY, "p_pos": 1.0})
    copy = augment_once(["北京", "发布"], VOCABULARY, config, np.random.default_rng(0))
    assert copy.tokens[0] in {"上海", "广州"} and copy.tokens[1] == "发布"  # the only train verb
    # a tag the train split lacks keeps the word
    assert augment_once(["。"], VOCABULARY, config, np.random.default_rng(0)).tokens == ("。",)
    rng = np.random.default_rng(1)
    draws = Counter(VOCABULARY.sample("ns", rng) for _ in range(4000))
    assert draws["上海"] / 4000 == pytest.approx(0.75, abs=0.03)


def test_ngram_sampling_keeps_a_contiguous_run_of_n_words():
    words = ["一", "二", "三", "四", "五", "六"]
    config = AugmentConfig(**{**ONLY, "p_ng": 1.0, "ngram_min": 2, "ngram_max": 3})
    rng = np.random.default_rng(0)
    lengths = set()
    for _ in range(50):
        kept = list(augment_once(words, VOCABULARY, config, rng).tokens)
        first = words.index(kept[0])
        assert kept == words[first : first + len(kept)]
        lengths.add(len(kept))
    assert lengths == {2, 3}
    # an n-gram as long as the example keeps it whole
    assert augment_once(["一", "二"], VOCABULARY, config, rng).tokens == ("一", "二")


def test_copies_are_distinct_new_and_reproducible_per_example(thucnews_lines):
    text = thucnews_lines[0].split("\t", 1)[1]
    config = AugmentConfig(n_iter=8, p_mask=0.2, p_pos=0.2, p_ng=0.3, seed=3)
    vocabulary = PosVocabulary.from_words(
        segment_words(line.split("\t", 1)[1]) for line in thucnews_lines[:500]
    )
    copies = augment_text(text, vocabulary, config, example_seed=7)
    assert 0 < len(copies) <= 8
    assert len({copy.tokens for copy in copies}) == len(copies)
    assert all(copy.tokens != tuple(jieba_tokens(text)) for copy in copies)
    assert augment_text(text, vocabulary, config, example_seed=7) == copies
    assert augment_text(text, vocabulary, config, example_seed=8) != copies
    assert augment_text(text, vocabulary, AugmentConfig(n_iter=0), example_seed=7) == []


def test_teacher_text_and_student_words_are_aligned(thucnews_lines):
    texts = [line.split("\t", 1)[1] for line in thucnews_lines[:300]] + ["iPhone 15 发布 会 在 北京"]
    vocabulary = PosVocabulary.from_words(segment_words(text) for text in texts)
    config = AugmentConfig(n_iter=4, p_mask=0.3, p_pos=0.3, p_ng=0.3)
    checked = 0
    for seed, text in enumerate(texts):
        for copy in augment_text(text, vocabulary, config, seed):
            teacher = copy.teacher_text("<mask>")
            words = copy.student_words()
            # the student's words, masks rendered as the teacher's token, are the teacher's text
            assert "".join("<mask>" if w == MASK else w for w in words) == "".join(teacher.split())
            assert teacher.count("<mask>") == words.count(MASK)
            # unmasked, unreplaced words are jieba's own segmentation of the text
            assert all(w == MASK or not w.isspace() for w in words)
            checked += 1
    assert checked > 500


def test_invalid_probabilities_are_refused():
    with pytest.raises(ValueError, match="p_mask \\+ p_pos <= 1"):
        AugmentConfig(p_mask=0.7, p_pos=0.7)
    with pytest.raises(ValueError, match="ngram_min <= ngram_max"):
        AugmentConfig(ngram_min=3, ngram_max=2)
