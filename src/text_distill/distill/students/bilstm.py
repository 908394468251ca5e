"""A 1-layer BiLSTM text classifier over token ids (Tang et al. 2019's student), reading
``student.model.unit`` (words or characters), and its twin without packed sequences for the ONNX export."""

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from text_distill.distill.models.student_kinds import StudentKind, register_student
from text_distill.distill.students.base import ConfiguredNetwork


@dataclass(frozen=True)
class BiLSTMOptions:
    hidden_size: int
    dropout: float


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


class MaskedBiLSTM(nn.Module):
    """``BiLSTMClassifier.forward`` without packed sequences (which do not export), same weights.

    With right padding the forward LSTM's states at real positions never see the padding; the
    backward LSTM runs over each text reversed within its own length (padding stays at the end),
    and its states are put back in order. Padded positions are masked out of the max-pool, exactly
    as the packed model pads them with -inf.
    """

    def __init__(self, model: BiLSTMClassifier) -> None:
        super().__init__()
        lstm = model.lstm
        self.embedding = model.embedding
        self.forward_lstm = nn.LSTM(lstm.input_size, lstm.hidden_size, batch_first=True)
        self.backward_lstm = nn.LSTM(lstm.input_size, lstm.hidden_size, batch_first=True)
        for weight in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(self.forward_lstm, f"{weight}_l0").data.copy_(getattr(lstm, f"{weight}_l0").data)
            getattr(self.backward_lstm, f"{weight}_l0").data.copy_(getattr(lstm, f"{weight}_l0_reverse").data)
        self.classifier = model.classifier

    def forward(self, token_ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        embedded = self.embedding(token_ids)
        positions = torch.arange(token_ids.shape[1]).unsqueeze(0)
        lengths = lengths.clamp(min=1).unsqueeze(1)
        real = positions < lengths
        reverse_index = torch.where(real, lengths - 1 - positions, positions).unsqueeze(-1)
        forward_states = self.forward_lstm(embedded)[0]
        # expand(-1, -1, n), not expand_as: the exporter would freeze the time axis at the example's
        reversed_embedded = embedded.gather(1, reverse_index.expand(-1, -1, embedded.shape[-1]))
        backward_states = self.backward_lstm(reversed_embedded)[0]
        backward_states = backward_states.gather(1, reverse_index.expand(-1, -1, backward_states.shape[-1]))
        states = torch.cat([forward_states, backward_states], dim=-1)
        pooled = states.masked_fill(~real.unsqueeze(-1), float("-inf")).max(dim=1).values
        return self.classifier(pooled)


register_student(
    StudentKind(
        "bilstm",
        BiLSTMOptions,
        BiLSTMClassifier,
        network_options=("hidden_size", "dropout"),
        exportable=MaskedBiLSTM,  # packed sequences do not export
    )
)
