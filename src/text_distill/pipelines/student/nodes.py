"""Student: a BiLSTM over jieba words, distilled from cached teacher logits, and the same student
trained on hard labels alone as the baseline. Teacher logits are only ever read from the cache."""

import logging
from typing import Any

import numpy as np
import pandas as pd
import torch

from text_distill.distill.soft_targets import check_soft_targets, logits_for
from text_distill.distill.student import StudentClassifier
from text_distill.distill.students.bilstm import BiLSTMClassifier
from text_distill.distill.train import TrainingConfig, train_student

logger = logging.getLogger(__name__)

UNIT_COLUMNS = {"word": "words", "char": "chars"}


def _build(vocabulary: list[str], embeddings: np.ndarray, label_names: list[str], params: dict[str, Any]):
    model = BiLSTMClassifier(
        vocab_size=len(vocabulary),
        num_labels=len(label_names),
        embedding_dim=embeddings.shape[1],
        hidden_size=int(params["hidden_size"]),
        dropout=float(params["dropout"]),
        embeddings=embeddings,
        freeze_embeddings=bool(params["freeze_embeddings"]),
    )
    return StudentClassifier(model, vocabulary, params["unit"], label_names, params["max_tokens"])


def _fit(
    segmented: pd.DataFrame,
    examples: pd.DataFrame,
    vocabulary: list[str],
    embeddings: np.ndarray,
    label_names: list[str],
    soft_targets: pd.DataFrame | None,
    params: dict[str, Any],
) -> tuple[StudentClassifier, dict[str, Any]]:
    torch.set_num_threads(int(params["threads"]))
    torch.manual_seed(int(params["seed"]))
    student = _build(vocabulary, embeddings, label_names, params)
    rows = examples[["example_id", "split", "label_id"]].merge(
        segmented[["example_id", UNIT_COLUMNS[params["unit"]]]], on="example_id", validate="one_to_one"
    )
    train, dev = rows[rows["split"] == "train"], rows[rows["split"] == "dev"]
    column = UNIT_COLUMNS[params["unit"]]
    teacher_logits = None if soft_targets is None else logits_for(soft_targets, train["example_id"])
    config = TrainingConfig(
        **{
            key: params[key]
            for key in ("epochs", "batch_size", "learning_rate", "weight_decay", "grad_clip", "seed")
        },
        alpha=1.0 if soft_targets is None else float(params["alpha"]),
        kd_loss=params["kd_loss"],
        temperature=float(params["temperature"]),
        progress=bool(params.get("progress", True)),
    )
    history = train_student(
        student,
        [student.ids(tokens) for tokens in train[column]],
        train["label_id"].to_numpy(),
        teacher_logits,
        [student.ids(tokens) for tokens in dev[column]],
        dev["label_id"].to_numpy(),
        config,
    )
    best = max(history, key=lambda record: record["dev_macro_f1"])
    log = {"train_rows": len(train), "dev_rows": len(dev), "best_epoch": best["epoch"], "history": history}
    return student, log


def train_distilled_student(
    segmented: pd.DataFrame,
    examples: pd.DataFrame,
    soft_targets: pd.DataFrame,
    teacher_fingerprint: dict[str, Any],
    vocabulary: list[str],
    embeddings: np.ndarray,
    label_names: list[str],
    params: dict[str, Any],
) -> tuple[StudentClassifier, dict[str, Any]]:
    """``alpha * CE(hard) + (1 - alpha) * KD`` against the cached logits of the current teacher."""
    check_soft_targets(soft_targets, examples, teacher_fingerprint["fingerprint"])
    return _fit(segmented, examples, vocabulary, embeddings, label_names, soft_targets, params)


def train_student_alone(
    segmented: pd.DataFrame,
    examples: pd.DataFrame,
    vocabulary: list[str],
    embeddings: np.ndarray,
    label_names: list[str],
    params: dict[str, Any],
) -> tuple[StudentClassifier, dict[str, Any]]:
    """The same student, same data and schedule, on hard labels alone: the baseline."""
    return _fit(segmented, examples, vocabulary, embeddings, label_names, None, params)
