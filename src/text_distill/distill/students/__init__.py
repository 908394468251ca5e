"""Student architectures, chosen by name in ``parameters_student.yml``."""

from typing import Any

import numpy as np
from torch import nn

from text_distill.distill.students.bilstm import BiLSTMClassifier
from text_distill.distill.students.ngram import BagOfNgramsClassifier
from text_distill.distill.students.textcnn import TextCNNClassifier

ARCHITECTURES = {"bilstm": BiLSTMClassifier, "textcnn": TextCNNClassifier, "ngram": BagOfNgramsClassifier}
TRANSFORMER = "transformer"  # cut from the teacher instead: ``transformer.TransformerClassifier``


def build_student_model(
    architecture: str,
    vocab_size: int,
    num_labels: int,
    embeddings: np.ndarray,
    freeze_embeddings: bool,
    options: dict[str, Any],
) -> nn.Module:
    """A randomly initialised student whose embedding table starts from ``embeddings``."""
    if architecture not in ARCHITECTURES:
        choices = sorted([*ARCHITECTURES, TRANSFORMER])
        raise ValueError(f"student.architecture must be one of {choices}, got {architecture!r}")
    return ARCHITECTURES[architecture](
        vocab_size=vocab_size,
        num_labels=num_labels,
        embedding_dim=embeddings.shape[1],
        embeddings=embeddings,
        freeze_embeddings=freeze_embeddings,
        **options,
    )
