"""A bag of n-grams (the fastText architecture): the mean of word and character n-gram embeddings,
then a linear head (optionally one hidden layer). The fastest student: no recurrence, no convolution.

Its tokens are ``text.ngram_features`` of the segmented text, looked up in a train-split feature
vocabulary (features below ``min_freq`` share ``<unk>``), so every runtime, ONNX included, sees the
same ids.
"""

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from text_distill.distill.data.text import normalise_text, word_segmenter
from text_distill.distill.data.vocab import build_vocabulary, vector_matrix
from text_distill.distill.models.ngram_index import NgramIndex
from text_distill.distill.models.student import pad
from text_distill.distill.models.student_kinds import Encoder, StudentKind, register_student
from text_distill.distill.students.base import ConfiguredNetwork
from text_distill.distill.students.bilstm import embedding_layer
from text_distill.distill.training.student_loop import AtLeastOne

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class NgramOptions:
    embedding_dim: AtLeastOne
    hidden_size: int | None  # None: a linear head on the mean (fastText)
    dropout: float
    char_ngrams: tuple[int, int]  # n from .. to
    word_ngrams: tuple[int, int]
    min_freq: AtLeastOne
    max_size: int | None
    max_features: AtLeastOne  # features read per text


class BagOfNgramsClassifier(ConfiguredNetwork):
    """Embedding -> masked mean over the features -> dropout -> [ReLU hidden layer] -> logits."""

    architecture = "ngram"

    def __init__(
        self,
        vocab_size: int,
        num_labels: int,
        embedding_dim: int = 100,
        hidden_size: int | None = None,
        dropout: float = 0.0,
        embeddings: np.ndarray | None = None,
        freeze_embeddings: bool = False,
    ) -> None:
        super().__init__()
        self.embedding = embedding_layer(vocab_size, embedding_dim, embeddings, freeze_embeddings)
        self.dropout = nn.Dropout(dropout)
        layers: list[nn.Module] = []
        width = embedding_dim
        if hidden_size:
            layers += [nn.Linear(embedding_dim, hidden_size), nn.ReLU(), nn.Dropout(dropout)]
            width = hidden_size
        self.classifier = nn.Sequential(*layers, nn.Linear(width, num_labels))

    def forward(self, token_ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        # Padding (id 0) has a zero row that gets no gradient, so the sum over the padded axis is
        # the sum over the real features; an empty text is one <unk> (StudentClassifier.batch).
        summed = self.embedding(token_ids).sum(dim=1)
        mean = summed / lengths.clamp(min=1).unsqueeze(1).to(summed.dtype)
        return self.classifier(self.dropout(mean))


def ngram_vocabulary(
    counted: Iterable[list[str]], data: Any, model: Any, seed: int
) -> tuple[list[str], np.ndarray]:
    """The n-gram features seen ``min_freq`` times in the texts the student trains on, random
    initial rows."""
    options = model.options
    vocabulary = build_vocabulary(counted, options.min_freq, options.max_size)
    embeddings, _ = vector_matrix(vocabulary, {}, options.embedding_dim, seed)
    logger.info("n-gram student: %d features (min_freq %s)", len(vocabulary) - 2, options.min_freq)
    return vocabulary, embeddings


def ngram_index(student: Any) -> NgramIndex | None:
    """The student's features as integer keys (``ngram_index.py``), from its vocabulary; None for a
    student without an n-gram segmenter, or n-grams too long for int64 keys (the string path)."""
    segmenter = student.segmenter
    if getattr(segmenter, "unit", None) != "ngram":
        return None
    try:
        return NgramIndex(
            student.token_ids,
            segmenter.char_ngrams,
            segmenter.word_ngrams,
            student.max_tokens,
            lambda words: student.ids(segmenter.from_words(words)),
        )
    except OverflowError:
        return None


def index_encoder(student: Any) -> Encoder | None:
    """``StudentClassifier.encode`` through the integer-key index: the same ids, a batch at a time."""
    index = ngram_index(student)
    if index is None:
        return None
    split = word_segmenter(student.segmenter.words)

    def encode(texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        return pad(*index.ids([split(normalise_text(text)) for text in texts]))

    return encode


register_student(
    StudentKind(
        "ngram",
        NgramOptions,
        BagOfNgramsClassifier,
        network_options=("hidden_size", "dropout"),  # the rest of the block shapes the features
        reads=lambda model: {
            "unit": "ngram",  # whatever ``student.model.unit`` says
            "char_ngrams": model.options.char_ngrams,
            "word_ngrams": model.options.word_ngrams,
        },
        tokens_read=lambda model: model.options.max_features,
        vocabulary=ngram_vocabulary,
        batch_encoder=index_encoder,
    )
)
