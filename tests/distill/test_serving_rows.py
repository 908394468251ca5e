"""Serving rows: every input row gets an output row in order, with a status for the ones that
cannot be scored; the text column is required."""

import math
import re

import numpy as np
import pandas as pd
import pytest
import torch

from text_distill.distill.export.serving import (
    MissingTextColumnError,
    OutputColumnClashError,
    label_texts,
    screen_texts,
)
from text_distill.distill.models.student import StudentClassifier
from text_distill.distill.students.bilstm import BiLSTMClassifier

VOCABULARY = ["<pad>", "<unk>", *"中国队夺得冠军股市大涨"]
LABELS = ["sports", "finance"]


def test_screening_normalises_cuts_and_names_every_bad_row():
    texts = pd.DataFrame(
        {
            "text": ["　中国队\t夺得  冠军 ", "", " \n\t ", None, np.nan, 42, "股" * 30, "ＡＢＣ１２３"],
            "id": range(8),
        },
        index=range(10, 18),
    )
    screened = screen_texts(texts, max_chars=20)
    assert screened["status"].tolist() == [
        "ok",
        "empty_text",
        "empty_text",
        "missing_text",
        "missing_text",
        "not_text",
        "truncated",
        "ok",
    ]
    assert screened["text"].tolist()[0] == "中国队 夺得 冠军"
    assert screened["text"].tolist()[6] == "股" * 20
    assert screened["text"].tolist()[7] == "ABC123"  # NFKC: full-width to half-width
    assert screened["id"].tolist() == list(range(8))


@pytest.mark.parametrize("invisible", ["\u200b", "\u200c\u200d", "\ufeff", "\u2060", " \u200b\ufeff\u2060 "])
def test_a_text_of_only_zero_width_characters_is_empty(invisible):
    screened = screen_texts(pd.DataFrame({"text": [invisible, "中国\u200b队"]}), max_chars=20)
    assert screened["status"].tolist() == ["empty_text", "ok"]
    assert screened["text"].tolist() == ["", "中国队"]


@pytest.mark.parametrize(
    ("columns", "named"),
    [
        (["text", "label"], "['label']"),  # a gold label column
        (["id", "text", "probability", "status"], "['probability', 'status']"),
        (["text", "prob_sports"], "['prob_sports']"),
    ],
)
def test_a_column_the_predictions_would_overwrite_is_refused(columns, named):
    texts = pd.DataFrame([["中国队"] * len(columns)], columns=columns)
    with pytest.raises(
        OutputColumnClashError, match=rf"have column\(s\) {re.escape(named)}, which the predictions"
    ) as error:
        screen_texts(texts, max_chars=10)
    assert "\n" not in str(error.value)


def test_a_table_without_a_text_column_is_refused_with_its_columns():
    with pytest.raises(MissingTextColumnError, match=r"need a 'text' column; got columns \['title'\]"):
        screen_texts(pd.DataFrame({"title": ["中国队"]}), max_chars=10)


def test_labels_and_probabilities_for_each_row_in_order():
    torch.manual_seed(0)
    student = StudentClassifier(BiLSTMClassifier(len(VOCABULARY), 2, 4, 4), VOCABULARY, "char", LABELS, 8)
    screened = screen_texts(
        pd.DataFrame({"text": ["中国队夺得冠军", "", "股市大涨", None], "id": [7, 8, 9, 10]}), 100
    )
    out = label_texts(screened, student, batch_size=2)
    assert list(out.columns) == ["id", "label", "probability", "prob_sports", "prob_finance", "status"]
    assert out["id"].tolist() == [7, 8, 9, 10]
    logits = student.predict_logits(["中国队夺得冠军", "股市大涨"])
    assert out["label"].tolist() == [LABELS[logits[0].argmax()], None, LABELS[logits[1].argmax()], None]
    for row in (0, 2):
        assert math.isclose(out.loc[row, "prob_sports"] + out.loc[row, "prob_finance"], 1.0)
        assert out.loc[row, "probability"] == max(out.loc[row, "prob_sports"], out.loc[row, "prob_finance"])
    assert out.loc[1].drop(["id", "status"]).isna().all() and out.loc[3, "status"] == "missing_text"
