"""A bag of n-grams (the fastText architecture): the mean of word and character n-gram embeddings,
then a linear head (optionally one hidden layer). The fastest student: no recurrence, no convolution.

Its tokens are ``text.ngram_features`` of the segmented text, looked up in a train-split feature
vocabulary (features below ``min_freq`` share ``<unk>``), so every runtime, ONNX included, sees the
same ids.
"""

import numpy as np
import torch
from torch import nn

from text_distill.distill.students.base import ConfiguredNetwork
from text_distill.distill.students.bilstm import embedding_layer


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
