"""Student architectures, chosen by name in ``parameters_student.yml``."""

import importlib
from typing import Any

import numpy as np
from torch import nn

from text_distill.distill.students.base import ConfiguredNetwork
from text_distill.distill.students.bilstm import BiLSTMClassifier
from text_distill.distill.students.ngram import BagOfNgramsClassifier
from text_distill.distill.students.textcnn import TextCNNClassifier

ARCHITECTURES = {"bilstm": BiLSTMClassifier, "textcnn": TextCNNClassifier, "ngram": BagOfNgramsClassifier}
TRANSFORMER = "transformer"  # cut from the teacher instead: ``transformer.TransformerClassifier``
# every network a saved student may hold, by the ``architecture`` its config.json records; the
# transformer's module imports transformers, so it is imported only when such a student is loaded
NETWORKS: dict[str, str] = {
    **{name: f"{cls.__module__}:{cls.__qualname__}" for name, cls in ARCHITECTURES.items()},
    TRANSFORMER: "text_distill.distill.students.transformer:TransformerClassifier",
}


def network_class(architecture: str) -> type[ConfiguredNetwork]:
    """The network class registered as ``architecture``."""
    if architecture not in NETWORKS:
        raise ValueError(f"unknown student architecture {architecture!r}, expected one of {sorted(NETWORKS)}")
    module, name = NETWORKS[architecture].split(":")
    return getattr(importlib.import_module(module), name)


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
