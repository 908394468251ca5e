"""A toy student kind, added the way a new kind is: one module (network, typed options) and its
registration. The mean of its characters' embeddings, then a linear head. Imported by the
``toy_kind`` fixture of tests/distill/test_student_registry.py only (and by the ONNX export's child
process, which unpickles the network), so the kind exists while that test runs."""

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from text_distill.distill.students import StudentKind, register_student
from text_distill.distill.students.base import ConfiguredNetwork
from text_distill.distill.students.bilstm import embedding_layer


@dataclass(frozen=True)
class ToyOptions:
    scale: float  # logits = scale * head(mean embedding)


class MeanOfEmbeddings(ConfiguredNetwork):
    architecture = "toy"

    def __init__(self, vocab_size: int, num_labels: int, embedding_dim: int, **options: Any) -> None:
        """``options``: ``scale``, and the table's pretrained ``embeddings`` and ``freeze_embeddings``."""
        super().__init__()
        self.embedding = embedding_layer(
            vocab_size,
            embedding_dim,
            options.pop("embeddings", None),
            options.pop("freeze_embeddings", False),
        )
        self.head = nn.Linear(embedding_dim, num_labels)
        self.scale = float(options.pop("scale", 1.0))

    def config(self) -> dict[str, Any]:
        """The shapes and scale (the embedding rows are in the weights)."""
        shape = self.embedding.weight.shape
        return {
            "vocab_size": shape[0],
            "num_labels": self.head.out_features,
            "embedding_dim": shape[1],
            "scale": self.scale,
        }

    def forward(self, token_ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        # padding (id 0) has a zero row, so the sum over the padded axis is the sum over the text
        mean = self.embedding(token_ids).sum(dim=1) / lengths.clamp(min=1).unsqueeze(1)
        return self.scale * self.head(mean)


KIND = register_student(StudentKind("toy", ToyOptions, MeanOfEmbeddings, network_options=("scale",)))
