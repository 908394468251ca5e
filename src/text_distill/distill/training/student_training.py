"""Students from a recipe: build the chosen architecture over its unit's vocabulary, train it on the
train split (hard labels and, when distilling, the cached teacher logits plus the texts without a
label: the unlabelled split and the transfer rows), select on dev, at the recipe's seed. The test
split is never read here.

``recipe.model.architecture`` names a student kind (``students.STUDENT_KINDS``), whose builder makes
the model: ``embedding_student`` here for the kinds with an embedding table over the segmenter's
words (``ngram`` reads n-gram features of them; ``bilstm`` and ``textcnn`` read ``recipe.model.unit``,
word with word2vec vectors or char); the ``transformer`` kind's own, cut from a teacher encoder.
Every student carries the word segmenter, so serving segments as training did.
"""

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import torch

from text_distill.distill.data.soft_targets import logits_for
from text_distill.distill.data.splits import UNLABELLED
from text_distill.distill.models.student import StudentClassifier
from text_distill.distill.models.student_kinds import STUDENT_KINDS
from text_distill.distill.models.teacher import TeacherClassifier
from text_distill.distill.objectives.losses import NO_LABEL
from text_distill.distill.training.recipe import StudentRecipe
from text_distill.distill.training.student_data import Built, EncoderSource, StudentData, Transfer
from text_distill.distill.training.student_loop import train_student

logger = logging.getLogger(__name__)


def fit(
    name: str, built: Built, data: StudentData, soft_targets: pd.DataFrame | None, recipe: StudentRecipe
) -> tuple[StudentClassifier, dict[str, Any]]:
    """Train on the train split (hard labels and, with ``soft_targets``, the teacher's logits) plus,
    with ``soft_targets``, the unlabelled split and the transfer rows (teacher logits, no hard label);
    keep the epoch best on dev macro-F1."""
    train, dev = data.split(data.examples, "train"), data.split(data.examples, "dev")
    tokens, labels = list(built.train_tokens), train["label_id"].to_numpy()
    teacher_logits = None if soft_targets is None else logits_for(soft_targets, train["example_id"])
    unlabelled_rows = 0
    if soft_targets is not None:
        unlabelled_ids = data.split(data.examples, UNLABELLED)["example_id"]
        extra_tokens, extra_logits = built.transfer
        unlabelled_rows = len(built.unlabelled_tokens)
        if unlabelled_rows:
            extra_tokens = [*built.unlabelled_tokens, *extra_tokens]
            found = logits_for(soft_targets, unlabelled_ids)
            extra_logits = found if extra_logits is None else np.concatenate([found, extra_logits])
        if len(extra_tokens):
            tokens = [*tokens, *extra_tokens]
            labels = np.concatenate([labels, np.full(len(extra_tokens), NO_LABEL)])
            teacher_logits = np.concatenate([teacher_logits, np.asarray(extra_logits, dtype=np.float32)])
    checkpoint_dir = recipe.runtime.checkpoint_dir
    config = recipe.training_config(
        checkpoint=f"{checkpoint_dir}/{name}.pt" if checkpoint_dir else None,
        hard_labels_only=soft_targets is None,
    )
    student = built.student
    history = train_student(
        student,
        [student.ids(each) for each in tokens],
        labels,
        teacher_logits,
        [student.ids(each) for each in built.dev_tokens],
        dev["label_id"].to_numpy(),
        config,
        built.matcher,
    )
    best = max(history, key=lambda record: record["dev_macro_f1"])
    log = {
        "train_rows": len(train),  # labelled: the hard-label term's
        "unlabelled_rows": unlabelled_rows,  # the unlabelled split's texts, in the KD term only
        "transfer_rows": len(tokens) - len(train) - unlabelled_rows,  # augmented and corpus texts
        "dev_rows": len(dev),
        "best_epoch": best["epoch"],
        "history": history,
    }
    return student, log


def seeded(
    train: Callable[[StudentRecipe], tuple[StudentClassifier, dict[str, Any]]], recipe: StudentRecipe
) -> tuple[StudentClassifier, dict[str, Any]]:
    """The model at the recipe's seed and its log, which names the seed and the recipe without its
    runtime (seed variants of one recipe log the same ``recipe``; ``evaluation.across_seeds`` checks)."""
    torch.set_num_threads(recipe.runtime.threads)
    torch.manual_seed(recipe.runtime.seed)
    student, log = train(recipe)
    trained = {key: value for key, value in recipe.as_params().items() if key != "runtime"}
    return student, {**log, "seed": recipe.runtime.seed, "recipe": trained}


def build(
    data: StudentData, recipe: StudentRecipe, transfer: Transfer | None, source: EncoderSource | None
) -> Built:
    """A new student of the recipe's kind, by the kind's builder (``StudentKind.build``)."""
    return STUDENT_KINDS[recipe.model.architecture].builder()(data, recipe, transfer, source)


def train_distilled(
    data: StudentData,
    soft_targets: pd.DataFrame,
    transfer: Transfer,
    teacher: TeacherClassifier,
    recipe: StudentRecipe,
) -> tuple[StudentClassifier, dict[str, Any]]:
    """``alpha * CE(hard) + (1 - alpha) * KD`` against the cached teacher logits over the train split
    and the transfer rows (plus intermediate matching for a transformer student cut from
    ``teacher``: its only use here), at the recipe's seed."""
    source = None if teacher is None else EncoderSource.of_teacher(teacher)

    def train(run: StudentRecipe) -> tuple[StudentClassifier, dict[str, Any]]:
        built = build(data, run, transfer, source)
        return fit("student", built, data, soft_targets, run)

    return seeded(train, recipe)


def train_alone(
    data: StudentData, source: EncoderSource | None, recipe: StudentRecipe
) -> tuple[StudentClassifier, dict[str, Any]]:
    """The same student, same data and schedule, on hard labels alone: the baseline. A transformer
    student is cut from ``source``, the pretrained encoder (never the fine-tuned teacher)."""

    def train(run: StudentRecipe) -> tuple[StudentClassifier, dict[str, Any]]:
        return fit("student_alone", build(data, run, None, source), data, None, run)

    return seeded(train, recipe)
