"""Student: distilled from cached teacher logits, and the same student trained on hard labels alone
as the baseline. Teacher logits are only ever read from the cache.

``student.architecture`` (bilstm, textcnn) and ``student.unit`` (word: jieba; char) choose the model
and what it reads; the default is Tang et al.'s BiLSTM over jieba words with word2vec vectors."""

import logging
from dataclasses import fields, replace
from typing import Any

import numpy as np
import pandas as pd
import torch

from text_distill.distill.soft_targets import check_soft_targets, logits_for
from text_distill.distill.student import StudentClassifier
from text_distill.distill.students import build_student_model
from text_distill.distill.train import TrainingConfig, train_student

logger = logging.getLogger(__name__)

UNIT_COLUMNS = {"word": "words", "char": "chars"}


def _for_unit(
    unit: str, word: tuple[list[str], np.ndarray], char: tuple[list[str], np.ndarray]
) -> tuple[list[str], np.ndarray]:
    """The vocabulary and vectors of the unit the student reads."""
    if unit not in UNIT_COLUMNS:
        raise ValueError(f"student.unit must be one of {sorted(UNIT_COLUMNS)}, got {unit!r}")
    return word if unit == "word" else char


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
    architecture = params["architecture"]
    model = build_student_model(
        architecture,
        len(vocabulary),
        len(label_names),
        embeddings,
        bool(params["freeze_embeddings"]),
        params.get(architecture) or {},
    )
    student = StudentClassifier(model, vocabulary, params["unit"], label_names, params["max_tokens"])
    column = UNIT_COLUMNS[params["unit"]]
    rows = examples[["example_id", "split", "label_id"]].merge(
        segmented[["example_id", column]], on="example_id", validate="one_to_one"
    )
    train, dev = rows[rows["split"] == "train"], rows[rows["split"] == "dev"]
    teacher_logits = None if soft_targets is None else logits_for(soft_targets, train["example_id"])
    config = TrainingConfig(**{f.name: params[f.name] for f in fields(TrainingConfig) if f.name in params})
    name = "student" if soft_targets is not None else "student_alone"
    if params.get("checkpoint_dir"):
        config = replace(config, checkpoint=f"{params['checkpoint_dir']}/{name}.pt")
    if soft_targets is None:
        config = replace(config, alpha=1.0)
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
    word_vocabulary: list[str],
    word_embeddings: np.ndarray,
    char_vocabulary: list[str],
    char_embeddings: np.ndarray,
    label_names: list[str],
    params: dict[str, Any],
) -> tuple[StudentClassifier, dict[str, Any]]:
    """``alpha * CE(hard) + (1 - alpha) * KD`` against the cached logits of the current teacher."""
    check_soft_targets(soft_targets, examples, teacher_fingerprint["fingerprint"])
    vocabulary, embeddings = _for_unit(
        params["unit"], (word_vocabulary, word_embeddings), (char_vocabulary, char_embeddings)
    )
    return _fit(segmented, examples, vocabulary, embeddings, label_names, soft_targets, params)


def train_student_alone(
    segmented: pd.DataFrame,
    examples: pd.DataFrame,
    word_vocabulary: list[str],
    word_embeddings: np.ndarray,
    char_vocabulary: list[str],
    char_embeddings: np.ndarray,
    label_names: list[str],
    params: dict[str, Any],
) -> tuple[StudentClassifier, dict[str, Any]]:
    """The same student, same data and schedule, on hard labels alone: the baseline."""
    vocabulary, embeddings = _for_unit(
        params["unit"], (word_vocabulary, word_embeddings), (char_vocabulary, char_embeddings)
    )
    return _fit(segmented, examples, vocabulary, embeddings, label_names, None, params)
