"""Student stage: distilled and alone, trained from the cache only, refusing a foreign cache."""

import numpy as np
import pandas as pd
import pytest

from text_distill.distill.soft_targets import SoftTargetMismatchError, soft_target_table
from text_distill.distill.text import segment_chars, segment_words
from text_distill.distill.vocab import build_vocabulary
from text_distill.pipelines.student.nodes import train_distilled_student, train_student_alone

PARAMS = {
    "unit": "word",
    "max_tokens": 16,
    "hidden_size": 16,
    "dropout": 0.0,
    "freeze_embeddings": False,
    "epochs": 3,
    "batch_size": 4,
    "learning_rate": 0.01,
    "weight_decay": 0.0,
    "grad_clip": 5.0,
    "alpha": 0.5,
    "kd_loss": "kl",
    "temperature": 2.0,
    "seed": 0,
    "threads": 1,
    "progress": False,
}


@pytest.fixture
def inputs(examples_frame):
    segmented = pd.DataFrame(
        {
            "example_id": examples_frame["example_id"],
            "split": examples_frame["split"],
            "words": examples_frame["text"].map(segment_words),
            "chars": examples_frame["text"].map(segment_chars),
        }
    )
    vocabulary = build_vocabulary(segmented.loc[segmented["split"] == "train", "words"], min_freq=1)
    embeddings = np.random.default_rng(0).normal(size=(len(vocabulary), 8)).astype(np.float32)
    logits = np.eye(2, dtype=np.float32)[examples_frame["label_id"]] * 4
    cache = soft_target_table(examples_frame, logits, "f" * 64)
    return segmented, examples_frame, cache, vocabulary, embeddings, ["finance", "sports"]


def test_distilled_student_trains_from_the_cache_and_reads_raw_text(inputs):
    segmented, examples, cache, vocabulary, embeddings, labels = inputs
    student, log = train_distilled_student(
        segmented, examples, cache, {"fingerprint": "f" * 64}, vocabulary, embeddings, labels, PARAMS
    )
    assert [record["epoch"] for record in log["history"]] == [1, 2, 3]
    assert {"train_hard", "train_kd", "dev_macro_f1"} <= set(log["history"][0])
    assert log["history"][-1]["train_loss"] < log["history"][0]["train_loss"]
    train = examples[examples["split"] == "train"]
    predicted = student.predict_logits(train["text"].tolist()).argmax(axis=1)
    assert (predicted == train["label_id"].to_numpy()).mean() == 1.0
    assert student.predict_logits(["", "   "]).shape == (2, 2)  # empty texts get a defined answer


def test_student_refuses_a_cache_from_another_teacher(inputs):
    segmented, examples, cache, vocabulary, embeddings, labels = inputs
    with pytest.raises(SoftTargetMismatchError, match="rerun `kedro run --pipeline soft_targets`"):
        train_distilled_student(
            segmented, examples, cache, {"fingerprint": "0" * 64}, vocabulary, embeddings, labels, PARAMS
        )


def test_student_alone_uses_hard_labels_only(inputs):
    segmented, examples, _, vocabulary, embeddings, labels = inputs
    params = {**PARAMS, "unit": "char"}
    char_vocabulary = build_vocabulary(segmented.loc[segmented["split"] == "train", "chars"], min_freq=1)
    char_embeddings = np.zeros((len(char_vocabulary), 8), dtype=np.float32)
    student, log = train_student_alone(segmented, examples, char_vocabulary, char_embeddings, labels, params)
    assert all("train_kd" not in record for record in log["history"])
    assert student.unit == "char"
