"""What a student is trained from and what its builder returns, as the trainers (``student_training``)
and every student kind's builder (``students/``) read them: the labelled tables and vectors, the
transfer rows, the encoder a transformer student is cut from, a built student. Its own module, so
that a kind's builder and the trainers that call it do not import each other."""

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from text_distill.distill.models.student import StudentClassifier
from text_distill.distill.models.teacher import TeacherClassifier
from text_distill.distill.objectives.intermediate import IntermediateMatching

Vectors = tuple[list[str], np.ndarray]  # a vocabulary and its rows of vectors


@dataclass
class StudentData:
    """What every student reads: the labelled examples (train and dev used), their words, the
    word and character vectors, the segmenter's name and the label names."""

    examples: pd.DataFrame
    segmented: pd.DataFrame
    word_vectors: Vectors
    char_vectors: Vectors
    word_segmenter: str
    label_names: list[str]

    @classmethod
    def of(
        cls,
        examples: pd.DataFrame,
        segmented: pd.DataFrame,
        vectors: tuple[list[str], np.ndarray, list[str], np.ndarray],
        word_segmenter: dict[str, str],
        label_names: list[str],
    ) -> "StudentData":
        """From the catalog's datasets: ``vectors`` is the word vocabulary and embeddings, then the
        character ones; ``word_segmenter`` the segment stage's record."""
        words, word_rows, chars, char_rows = vectors
        return cls(
            examples,
            segmented,
            (words, word_rows),
            (chars, char_rows),
            word_segmenter["segmenter"],
            label_names,
        )

    def split(self, frame: pd.DataFrame, name: str) -> pd.DataFrame:
        return frame[frame["split"] == name]


@dataclass
class Transfer:
    """Rows the teacher labelled but no person did: what the student reads of each, their logits and
    where each comes from (``augmented`` copies of train, or ``unlabelled`` corpus texts)."""

    words: list[list[str]]
    texts: list[str]
    logits: np.ndarray | None
    sources: list[str] = dataclasses.field(default_factory=list)

    @classmethod
    def of(cls, transfer_targets: pd.DataFrame) -> "Transfer":
        logits = np.stack(transfer_targets["logits"].to_numpy()) if len(transfer_targets) else None
        words, texts = list(transfer_targets["words"]), transfer_targets["teacher_text"].tolist()
        return cls(words, texts, logits, transfer_targets["source"].tolist())

    def written(self) -> list[list[str]]:
        """The words of the texts a person wrote (not the augmented copies): what a distilled
        student's features are counted over, beside the train and unlabelled splits."""
        return [
            words for words, source in zip(self.words, self.sources, strict=True) if source != "augmented"
        ]


@dataclass
class EncoderSource:
    """What a transformer student is cut from: an encoder with its tokenizer and input settings, the
    head to start from, and the teacher whose hidden states it matches (None: logits only)."""

    encoder: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    text_prefix: str
    max_length: int
    head: torch.nn.Linear | None = None
    teacher: TeacherClassifier | None = None

    @classmethod
    def of_teacher(cls, teacher: TeacherClassifier) -> "EncoderSource":
        return cls(
            teacher.encoder, teacher.tokenizer, teacher.text_prefix, teacher.max_length, teacher.head, teacher
        )


@dataclass
class Built:
    """A new student, the token lists of train and dev, the transfer rows' tokens and logits, and
    (when distilling) the unlabelled split's tokens, whose logits are in the soft targets."""

    student: StudentClassifier
    train_tokens: list[list[str]]
    dev_tokens: list[list[str]]
    transfer: tuple[list[list[str]], np.ndarray | None]
    matcher: IntermediateMatching | None = None
    unlabelled_tokens: list[list[str]] = dataclasses.field(default_factory=list)
