"""Reference baselines on hand-made cases: TF-IDF n-grams + linear SVM, C chosen on dev, end to end
from raw text, and the cross-fitted baseline teacher."""

import pickle
from dataclasses import replace

import numpy as np
import pytest

from text_distill.distill.models.baselines import (
    BASELINES,
    baseline_spec,
    cross_fit_baseline,
    fit_baseline,
    logit_scale,
)
from text_distill.errors import TextDistillError

SPORTS = [
    "中国队夺得冠军",
    "篮球比赛今晚开始",
    "足球联赛第十轮",
    "游泳世锦赛落幕",
    "排球队夺冠",
    "冠军联赛开赛",
]
FINANCE = ["股市今日大涨", "银行利率下调", "基金收益创新高", "央行发布报告", "股指期货上涨", "银行理财收益"]
TEXTS = SPORTS + FINANCE
LABELS = np.array([0] * len(SPORTS) + [1] * len(FINANCE))


@pytest.mark.parametrize("name", sorted(BASELINES))
def test_a_baseline_learns_the_train_split_and_reads_raw_text(name):
    spec = replace(baseline_spec(name), min_df=1)  # twelve texts: every n-gram is rare
    model, log = fit_baseline(
        spec, "jieba", (TEXTS, LABELS), (TEXTS, LABELS), ["sports", "finance"], [0.1, 1.0]
    )
    assert (model.predict_logits(TEXTS).argmax(axis=1) == LABELS).all()
    # raw text: full-width and extra whitespace are normalised as at training (NFKC)
    assert model.predict_logits(["  股市今日大涨！ "]).argmax() == 1
    assert model.predict_logits([]).shape == (0, 2)
    assert log["C"] in (0.1, 1.0) and set(log["dev_accuracy_by_C"]) == {"0.1", "1.0"}
    assert model.parameter_count() == model.svm.coef_.size + model.svm.intercept_.size
    again = pickle.loads(pickle.dumps(model))  # the catalog pickles it
    np.testing.assert_allclose(again.predict_logits(TEXTS), model.predict_logits(TEXTS))


def fitted(name: str):
    """The registered baseline on the twelve texts (every n-gram is rare there: ``min_df`` 1)."""
    spec = replace(baseline_spec(name), min_df=1)
    return fit_baseline(spec, "jieba", (TEXTS, LABELS), (TEXTS, LABELS), "ab", [1.0])[0]


def test_word_baseline_reads_the_segmenters_words_and_char_baseline_characters():
    word, char = fitted("tfidf_word_svm"), fitted("tfidf_char_svm")
    assert "冠军" in word.vectorizer.vocabulary_ and "中国队 夺得" in word.vectorizer.vocabulary_
    assert "冠" in char.vectorizer.vocabulary_ and "冠军" in char.vectorizer.vocabulary_
    with pytest.raises(ValueError, match="baseline must be one of"):
        baseline_spec("fasttext")


def test_c_is_chosen_on_dev_not_train():
    dev_texts, dev_labels = ["股市冠军"], np.array([0])
    model, log = fit_baseline(
        replace(baseline_spec("tfidf_char_svm"), min_df=1),
        "jieba",
        (TEXTS, LABELS),
        (dev_texts, dev_labels),
        "ab",
        [0.01, 100.0],
    )
    best = max(log["dev_accuracy_by_C"].values())
    assert log["dev_accuracy"] == best == log["dev_accuracy_by_C"][str(log["C"])]


def test_logit_scale_minimises_the_dev_negative_log_likelihood():
    scores = np.array([[1.0, -1.0], [1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]])
    always_right = logit_scale(scores, np.array([0, 0, 0, 1]), [0.5, 1.0, 8.0])
    three_of_four = logit_scale(scores, np.array([0, 0, 1, 1]), [0.5, 1.0, 8.0])
    assert always_right == 8.0 and three_of_four < 8.0


def test_cross_fitted_teacher_answers_train_texts_with_the_fold_that_did_not_see_them():
    spec = replace(baseline_spec("tfidf_char_svm"), min_df=1)
    full, _ = fit_baseline(spec, "jieba", (TEXTS, LABELS), (TEXTS, LABELS), "ab", [1.0])
    teacher, log = cross_fit_baseline(full, (TEXTS, LABELS), (TEXTS, LABELS), folds=3)
    assert len(teacher.folds) == 3 and set(teacher.fold_of_text.values()) == {0, 1, 2}
    logits = teacher.predict_logits([*TEXTS, "全新的标题"])
    for i, text in enumerate(TEXTS):
        fold = teacher.folds[teacher.fold_of_text[text]]
        np.testing.assert_allclose(logits[i], fold.predict_logits([text])[0] * teacher.scale, rtol=1e-6)
    np.testing.assert_allclose(logits[-1], full.predict_logits(["全新的标题"])[0] * teacher.scale, rtol=1e-6)
    assert 0.0 <= log["out_of_fold_train_accuracy"] <= 1.0 and log["logit_scale"] == teacher.scale > 0


@pytest.mark.parametrize("name", sorted(BASELINES))
def test_a_cross_fitted_teachers_fingerprint_is_what_decides_its_logits(name):
    def cross_fit(labels, c=1.0):
        spec = replace(baseline_spec(name), min_df=1)
        full, _ = fit_baseline(spec, "jieba", (TEXTS, labels), (TEXTS, labels), "ab", [c])
        return cross_fit_baseline(full, (TEXTS, labels), (TEXTS, labels), folds=3)[0]

    # the same fit twice: the same print (a word vectoriser holds a memory address a pickle would hash)
    assert cross_fit(LABELS).fingerprint() == cross_fit(LABELS).fingerprint()
    assert cross_fit(LABELS).fingerprint() != cross_fit(LABELS, c=0.01).fingerprint()


def test_cross_fitting_takes_as_many_folds_as_the_rarest_label_fills():
    texts, labels = SPORTS[:3] + FINANCE, np.array([0] * 3 + [1] * len(FINANCE))  # three sports rows
    _, log = cross_fit_baseline(fitted("tfidf_char_svm"), (texts, labels), (TEXTS, LABELS), folds=5)
    assert log["folds"] == 3
    with pytest.raises(TextDistillError, match="a label has 1 train row: raise ingest.label_budget"):
        cross_fit_baseline(fitted("tfidf_char_svm"), (texts[2:], labels[2:]), (TEXTS, LABELS), folds=5)
