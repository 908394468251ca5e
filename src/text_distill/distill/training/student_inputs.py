"""The distilled student's data inputs as one typed bundle: the eleven catalog entries that the
temperature sweep and the recipe search read (``pipelines.inputs``), checked and turned into what the
student trainer reads."""

import dataclasses

import numpy as np
import pandas as pd

from text_distill.distill.data.soft_targets import check_soft_target_rows
from text_distill.distill.models.teacher import TeacherClassifier
from text_distill.distill.training.student_training import StudentData


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
