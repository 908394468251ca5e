"""TextCNN (Kim 2014): parallel 1-D convolutions over token embeddings, max-pooled over time."""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from text_distill.distill.models.student_kinds import StudentKind, register_student
from text_distill.distill.students.base import ConfiguredNetwork
from text_distill.distill.students.bilstm import embedding_layer
from text_distill.distill.training.student_loop import AtLeastOne


@dataclass(frozen=True)
class TextCNNOptions:
    kernel_sizes: tuple[int, ...]
    filters: AtLeastOne
    dropout: float


class TextCNNClassifier(ConfiguredNetwork):
    """Embedding -> Conv1d per kernel size -> ReLU -> max over the real tokens -> dropout -> logits."""

    architecture = "textcnn"

    def __init__(
        self,
        vocab_size: int,
        num_labels: int,
        embedding_dim: int = 100,
        kernel_sizes: Sequence[int] = (2, 3, 4),
        filters: int = 128,
        dropout: float = 0.3,
        embeddings: np.ndarray | None = None,
        freeze_embeddings: bool = False,
    ) -> None:
        super().__init__()
        self.embedding = embedding_layer(vocab_size, embedding_dim, embeddings, freeze_embeddings)
        self.kernel_sizes = tuple(int(k) for k in kernel_sizes)
        self.convolutions = nn.ModuleList(nn.Conv1d(embedding_dim, filters, k) for k in self.kernel_sizes)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(filters * len(self.kernel_sizes), num_labels)

    def forward(self, token_ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        # pad texts shorter than the widest kernel up to it
        width = max(token_ids.shape[1], max(self.kernel_sizes))
        token_ids = nn.functional.pad(token_ids, (0, width - token_ids.shape[1]))
        embedded = self.dropout(self.embedding(token_ids)).transpose(1, 2)  # (batch, dim, time)
        pooled = []
        for kernel, convolution in zip(self.kernel_sizes, self.convolutions, strict=True):
            features = torch.relu(convolution(embedded))  # (batch, filters, time - kernel + 1)
            # windows that start past the text's end hold only padding: exclude them from the max
            starts = torch.arange(features.shape[-1], device=features.device)
            valid = starts.unsqueeze(0) < (lengths.clamp(min=1) - kernel + 1).clamp(min=1).unsqueeze(1)
            pooled.append(features.masked_fill(~valid.unsqueeze(1), float("-inf")).max(dim=-1).values)
        return self.classifier(self.dropout(torch.cat(pooled, dim=-1)))


register_student(
    StudentKind(
        "textcnn", TextCNNOptions, TextCNNClassifier, network_options=("kernel_sizes", "filters", "dropout")
    )
)
