"""Intermediate-layer matching (TinyBERT, TextBrewer's ``intermediate_matches``): the student's hidden
states and attention maps pulled towards the teacher's, computed with an online teacher pass."""

from collections.abc import Sequence
from typing import Any, Protocol

import torch
from torch import nn
from transformers import PreTrainedModel

from text_distill.distill.objectives.losses import attention_mse, cosine_loss, hidden_mse


class StatesStudent(Protocol):
    """A student that returns its hidden states and attention maps beside its logits (the transformer
    student kind does); objectives sit below the students, so they name only this."""

    def features(
        self, token_ids: torch.Tensor, lengths: torch.Tensor, states: bool = False
    ) -> tuple[Any, ...]: ...


HIDDEN_LOSSES = {"mse": hidden_mse, "cosine": cosine_loss}


def uniform_layer_map(student_layers: int, teacher_layers: int) -> list[tuple[int, int]]:
    """TinyBERT's uniform mapping: student layer m <- teacher layer m * T / S; 0 is the embeddings."""
    if teacher_layers % student_layers:
        raise ValueError(
            f"a uniform map needs the teacher's {teacher_layers} layers to be a multiple of the "
            f"student's {student_layers}; give layer_map explicitly"
        )
    step = teacher_layers // student_layers
    return [(m, m * step) for m in range(student_layers + 1)]


class IntermediateMatching(nn.Module):
    """``hidden_weight * sum(hidden loss) + attention_weight * sum(attention MSE)`` over ``layer_map``
    pairs ``(student, teacher)`` of hidden-state indices (0 = embeddings; attention of layer i is
    index i). A learned linear projection maps student states to the teacher's width when they differ.
    """

    def __init__(
        self,
        teacher_encoder: PreTrainedModel,
        teacher_token_ids: Sequence[int],
        student_width: int,
        student_layers: int,
        layer_map: Sequence[Sequence[int]] | None = None,
        hidden_weight: float = 1.0,
        attention_weight: float = 1.0,
        hidden_loss: str = "mse",
    ) -> None:
        super().__init__()
        if hidden_loss not in HIDDEN_LOSSES:
            raise ValueError(f"hidden_loss must be one of {sorted(HIDDEN_LOSSES)}, got {hidden_loss!r}")
        teacher_layers = teacher_encoder.config.num_hidden_layers
        pairs = [tuple(map(int, pair)) for pair in layer_map] if layer_map else None
        self.layer_map = pairs or uniform_layer_map(student_layers, teacher_layers)
        for s, t in self.layer_map:
            if not (0 <= s <= student_layers and 0 <= t <= teacher_layers):
                raise ValueError(
                    f"layer_map pair {[s, t]} is out of range: student 0..{student_layers}, "
                    f"teacher 0..{teacher_layers}"
                )
        # the teacher is a fixed reference: kept out of the module's parameters and never trained
        self.__dict__["teacher"] = teacher_encoder.eval().requires_grad_(False)
        self.teacher.set_attn_implementation("eager")  # sdpa returns no attention maps
        self.register_buffer("teacher_token_ids", torch.as_tensor(list(teacher_token_ids)), persistent=False)
        teacher_width = teacher_encoder.config.hidden_size
        self.projection = (
            nn.Linear(student_width, teacher_width) if student_width != teacher_width else nn.Identity()
        )
        self.hidden_weight, self.attention_weight = float(hidden_weight), float(attention_weight)
        self.hidden_loss = HIDDEN_LOSSES[hidden_loss]

    def forward(
        self, student: StatesStudent, token_ids: torch.Tensor, lengths: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, dict[str, float]]:
        """The student's logits, the weighted matching loss and its parts."""
        logits, hidden, attentions, mask = student.features(token_ids, lengths, states=True)
        with torch.no_grad():
            teacher = self.teacher(
                input_ids=self.teacher_token_ids[token_ids],
                attention_mask=mask,
                output_hidden_states=True,
                output_attentions=True,
            )
        hidden_loss = sum(
            self.hidden_loss(self.projection(hidden[s]).float(), teacher.hidden_states[t].float(), mask)
            for s, t in self.layer_map
        )
        attention_pairs = [(s, t) for s, t in self.layer_map if s > 0 and t > 0]
        attention_loss = sum(
            (
                attention_mse(attentions[s - 1].float(), teacher.attentions[t - 1].float(), mask)
                for s, t in attention_pairs
            ),
            torch.zeros(()),
        )
        loss = self.hidden_weight * hidden_loss + self.attention_weight * attention_loss
        return logits, loss, {"hidden": hidden_loss.item(), "attention": attention_loss.item()}
