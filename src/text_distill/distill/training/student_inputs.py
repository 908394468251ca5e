"""The distilled student's data inputs as one typed bundle: the eleven catalog entries that the student
stage, the temperature sweep and the recipe search all read, in the order their pipelines wire them.

``takes_student_inputs`` lets a node be written over the bundle while Kedro still passes the eleven
entries one by one: the wrapper's signature lists them, so the wiring and Kedro's input check are
unchanged.
"""

import dataclasses
import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from text_distill.distill.data.soft_targets import check_soft_target_rows
from text_distill.distill.models.teacher import TeacherClassifier
from text_distill.distill.training.student_training import StudentData

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class StudentInputs:
    """What a distilled student is trained from: the segment stage's tables and vectors, the cached
    teacher logits and the teacher (read by a transformer student only; ``None`` otherwise)."""

    segmented: pd.DataFrame
    examples: pd.DataFrame
    soft_targets: pd.DataFrame
    transfer_targets: pd.DataFrame
    teacher: TeacherClassifier | None
    word_vocabulary: list[str]
    word_embeddings: np.ndarray
    char_vocabulary: list[str]
    char_embeddings: np.ndarray
    word_segmenter: dict[str, str]
    label_names: list[str]

    def checked(self) -> "StudentInputs":
        """These inputs, once the cached logits are known to cover these examples (a stale cache is
        refused with the command that rebuilds it). Which teacher made them is checked before the
        run, by ``hooks.TeacherCheckHook``."""
        check_soft_target_rows(self.soft_targets, self.examples)
        return self

    def data(self) -> StudentData:
        """The labelled tables and vectors as the student trainer reads them."""
        vectors = (self.word_vocabulary, self.word_embeddings, self.char_vocabulary, self.char_embeddings)
        return StudentData.of(self.examples, self.segmented, vectors, self.word_segmenter, self.label_names)


def takes_student_inputs(node: Callable[..., T]) -> Callable[..., T]:
    """``node(inputs: StudentInputs, *rest)`` as a function of the eleven entries then ``rest``: the
    signature Kedro binds the catalog entries to (by position or by name)."""
    fields = [
        inspect.Parameter(field.name, inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=field.type)
        for field in dataclasses.fields(StudentInputs)
    ]
    rest = list(inspect.signature(node).parameters.values())[1:]
    signature = inspect.Signature(fields + rest, return_annotation=inspect.signature(node).return_annotation)

    @functools.wraps(node)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        arguments = signature.bind(*args, **kwargs).arguments
        inputs = StudentInputs(**{field.name: arguments.pop(field.name) for field in fields})
        keywords = {}  # a ``**keywords`` of ``node`` is bound as one mapping: passed on key by key
        for parameter in rest:
            if parameter.kind is inspect.Parameter.VAR_KEYWORD:
                keywords = arguments.pop(parameter.name, {})
        return node(inputs, **arguments, **keywords)

    wrapper.__signature__ = signature  # what inspect.signature, and so Kedro's input check, reads
    return wrapper
