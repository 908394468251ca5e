"""A 1-layer BiLSTM text classifier over token ids (Tang et al. 2019's student)."""

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from text_distill.distill.students.base import ConfiguredNetwork


def embedding_layer(
    vocab_size: int, embedding_dim: int, embeddings: np.ndarray | None, freeze: bool
) -> nn.Embedding:
    """An embedding table (row 0 is padding), initialised from pretrained rows when given."""
    layer = nn.Embedding(vocab_size, embedding_dim, padding_idx=0)
    if embeddings is not None:
        if embeddings.shape != (vocab_size, embedding_dim):
            raise ValueError(f"embeddings are {embeddings.shape}, expected {(vocab_size, embedding_dim)}")
        layer.weight.data.copy_(torch.from_numpy(embeddings))
    layer.weight.requires_grad_(not freeze)
    return layer


class BiLSTMClassifier(ConfiguredNetwork):
    """Embedding -> BiLSTM -> max-pool over time -> ReLU MLP -> logits."""

    architecture = "bilstm"

    def __init__(
        self,
        vocab_size: int,
        num_labels: int,
        embedding_dim: int = 100,
        hidden_size: int = 128,
        dropout: float = 0.2,
        embeddings: np.ndarray | None = None,
        freeze_embeddings: bool = False,
    ) -> None:
        super().__init__()
        self.embedding = embedding_layer(vocab_size, embedding_dim, embeddings, freeze_embeddings)
        self.lstm = nn.LSTM(embedding_dim, hidden_size, batch_first=True, bidirectional=True)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Sequential(
            nn.Linear(2 * hidden_size, hidden_size),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden_size, num_labels),
        )

    def forward(self, token_ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        embedded = self.dropout(self.embedding(token_ids))
        packed = pack_padded_sequence(
            embedded, lengths.clamp(min=1).cpu(), batch_first=True, enforce_sorted=False
        )
        states, _ = pad_packed_sequence(self.lstm(packed)[0], batch_first=True, padding_value=float("-inf"))
        pooled = states.max(dim=1).values
        return self.classifier(self.dropout(pooled))
