"""Student: distilled from cached teacher logits, and the same student trained on hard labels alone
as the baseline (the recipe and the training live in ``distill.training.recipe`` and
``distill.training.student_training``), at the recipe's seed or, in a seed variant's pipeline, at its own.
Both train from the recipe as recorded (``student_recipe``, ``recipe.yml``), not from the parameters.
Teacher logits are only ever read from the cache; which teacher made them is checked where they are
assembled, and before a run that reads them from disk (``hooks.TeacherCheckHook``)."""

from typing import Any

import numpy as np
import pandas as pd

from text_distill.distill.data.soft_targets import check_soft_target_rows
from text_distill.distill.models.student import StudentClassifier
from text_distill.distill.models.teacher import PretrainedEncoder, TeacherClassifier
from text_distill.distill.training.recipe import StudentRecipe
from text_distill.distill.training.student_training import (
    EncoderSource,
    StudentData,
    Transfer,
    train_alone,
    train_distilled,
)

Trained = tuple[StudentClassifier, dict[str, Any]]


def resolve_student_recipe(
    params: dict[str, Any], recipe_name: str | None, seeds: tuple[int, ...] = ()
) -> dict[str, Any]:
    """The whole student recipe as it will run, checked, with the seed variants the graph trains it
    at (``seeds``): the ``student_recipe`` dataset (``recipe.yml``, logged to MLflow), which the
    students train from."""
    recipe = StudentRecipe.from_params(params).as_params()
    return {"recipe": recipe_name, "student": recipe, "variants": {"student_seeds": list(seeds)}}


def recorded_recipe(record: dict[str, Any], seed: int | None) -> StudentRecipe:
    """The recipe ``resolve_student_recipe`` recorded (``student_recipe``), at ``seed`` instead of
    its own when given (a seed variant)."""
    recipe = StudentRecipe.from_params(record["student"])
    return recipe if seed is None else recipe.at_seed(seed)


def train_distilled_student(
    segmented: pd.DataFrame,
    examples: pd.DataFrame,
    soft_targets: pd.DataFrame,
    transfer_targets: pd.DataFrame,
    teacher: TeacherClassifier,
    word_vocabulary: list[str],
    word_embeddings: np.ndarray,
    char_vocabulary: list[str],
    char_embeddings: np.ndarray,
    word_segmenter: dict[str, str],
    label_names: list[str],
    recipe: dict[str, Any],
    seed: int | None = None,
) -> Trained:
    """The student distilled from the teacher's cached logits by the recorded ``recipe``
    (``student_recipe``), and its training log; at ``seed`` instead of the recipe's when given (a
    seed variant)."""
    check_soft_target_rows(soft_targets, examples)
    vectors = (word_vocabulary, word_embeddings, char_vocabulary, char_embeddings)
    data = StudentData.of(examples, segmented, vectors, word_segmenter, label_names)
    trained = recorded_recipe(recipe, seed)
    return train_distilled(data, soft_targets, Transfer.of(transfer_targets), teacher, trained)


def train_student_alone(
    segmented: pd.DataFrame,
    examples: pd.DataFrame,
    teacher_base: PretrainedEncoder,
    word_vocabulary: list[str],
    word_embeddings: np.ndarray,
    char_vocabulary: list[str],
    char_embeddings: np.ndarray,
    word_segmenter: dict[str, str],
    label_names: list[str],
    recipe: dict[str, Any],
    teacher_params: dict[str, Any],
    seed: int | None = None,
) -> Trained:
    """The same student on hard labels alone (a transformer from the pretrained encoder), and its
    training log; at ``seed`` when given."""
    vectors = (word_vocabulary, word_embeddings, char_vocabulary, char_embeddings)
    data = StudentData.of(examples, segmented, vectors, word_segmenter, label_names)
    source = None
    if teacher_base is not None:  # None in tests of the other architectures
        prefix, max_length = teacher_params["text_prefix"], teacher_params["max_length"]
        source = EncoderSource(teacher_base.encoder, teacher_base.tokenizer, prefix, max_length)
    return train_alone(data, source, recorded_recipe(recipe, seed))
