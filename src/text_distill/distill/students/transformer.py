"""A small transformer student cut from the teacher (TinyBERT-style): the teacher's embeddings and
first ``num_layers`` layers, mean pooling and a linear head.

The student reads the teacher's own word pieces, special tokens included, so its positions line up
one to one with the teacher's and their hidden states and attention maps can be matched. Its word
table keeps only the pieces the training data uses (a few thousand of e5's 250k), which is most of
the teacher's size.
"""

from __future__ import annotations

import copy
import importlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import torch
from torch import nn
from transformers import AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

from text_distill.distill.data.splits import UNLABELLED
from text_distill.distill.data.vocab import PAD, UNK, build_vocabulary
from text_distill.distill.models.student import StudentClassifier
from text_distill.distill.models.student_kinds import StudentKind, register_student
from text_distill.distill.models.teacher import TeacherClassifier
from text_distill.distill.objectives.intermediate import HIDDEN_LOSSES, IntermediateMatching
from text_distill.distill.students.base import ConfiguredNetwork
from text_distill.distill.training.recipe import StudentRecipe
from text_distill.distill.training.student_data import Built, EncoderSource, StudentData, Transfer
from text_distill.distill.training.student_loop import AtLeastOne

logger = logging.getLogger(__name__)

TOKENIZER_DIR = "tokenizer"  # where a saved student keeps the teacher's tokenizer


HiddenLoss = Literal[tuple(HIDDEN_LOSSES)]  # type: ignore[valid-type]


@dataclass(frozen=True)
class TransformerOptions:
    num_layers: AtLeastOne
    hidden_size: int | None  # None: the teacher's width
    dropout: float
    hidden_weight: float
    attention_weight: float
    hidden_loss: HiddenLoss
    layer_map: list[list[int]] | None


class SubwordSegmenter:
    """A text's pieces as the teacher reads them (prefix, special tokens, truncation included)."""

    kind: ClassVar[str] = "subword"  # its name in a saved student's config (``student.SEGMENTERS``)

    def __init__(self, tokenizer: PreTrainedTokenizerBase, text_prefix: str, max_length: int) -> None:
        self.tokenizer = tokenizer
        self.text_prefix = text_prefix
        self.max_length = int(max_length)

    def segment_many(self, texts: Sequence[str]) -> list[list[str]]:
        if not texts:
            return []  # the tokenizer fails on an empty batch
        encoded = self.tokenizer(
            [self.text_prefix + text for text in texts], truncation=True, max_length=self.max_length
        )["input_ids"]
        return [self.tokenizer.convert_ids_to_tokens(ids) for ids in encoded]

    def __call__(self, text: str) -> list[str]:
        return self.segment_many([text])[0]

    def save(self, directory: Path) -> dict[str, Any]:
        """The tokenizer saved under ``directory``; the rest as the config to rebuild from."""
        self.tokenizer.save_pretrained(directory / TOKENIZER_DIR)
        return {"text_prefix": self.text_prefix, "max_length": self.max_length}

    @classmethod
    def load(cls, config: dict[str, Any], directory: Path) -> SubwordSegmenter:
        tokenizer = AutoTokenizer.from_pretrained(str(directory / TOKENIZER_DIR))
        return cls(tokenizer, config["text_prefix"], config["max_length"])


def pruned_vocabulary(
    tokenizer: PreTrainedTokenizerBase, token_lists: Iterable[Sequence[str]]
) -> tuple[list[str], list[int]]:
    """``[<pad>, <unk>, pieces seen...]`` and each entry's id in the teacher's vocabulary."""
    seen = build_vocabulary(token_lists, min_freq=1)
    vocabulary = [PAD, UNK, *(piece for piece in seen[2:] if piece not in (PAD, UNK))]
    teacher_ids = [
        tokenizer.pad_token_id,
        tokenizer.unk_token_id,
        *tokenizer.convert_tokens_to_ids(vocabulary[2:]),
    ]
    return vocabulary, [int(i) for i in teacher_ids]


def _without_pooler(model_class: type, config: object) -> PreTrainedModel:
    try:
        return model_class(config, add_pooling_layer=False)
    except TypeError:  # an architecture without that switch
        return model_class(config)


class TransformerClassifier(ConfiguredNetwork):
    """Encoder -> mean pooling -> dropout -> linear head, over ids of a pruned piece vocabulary."""

    architecture = "transformer"

    def __init__(self, encoder: PreTrainedModel, num_labels: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.encoder = encoder
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(encoder.config.hidden_size, num_labels)

    def config(self) -> dict[str, Any]:
        """The encoder's class and Hugging Face config, the labels and dropout (JSON values)."""
        encoder_class = type(self.encoder)
        return {
            "encoder_class": f"{encoder_class.__module__}:{encoder_class.__qualname__}",
            "encoder_config": self.encoder.config.to_dict(),
            "num_labels": self.head.out_features,
            "dropout": self.dropout.p,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> TransformerClassifier:
        module, name = config["encoder_class"].split(":")
        encoder_class = getattr(importlib.import_module(module), name)
        encoder_config = encoder_class.config_class.from_dict(config["encoder_config"])
        encoder_config._attn_implementation = "eager"  # as cut: attention maps for matching
        return cls(_without_pooler(encoder_class, encoder_config), config["num_labels"], config["dropout"])

    @property
    def embedding(self) -> nn.Embedding:
        """The word table (what adversarial training perturbs)."""
        return self.encoder.get_input_embeddings()

    @classmethod
    def from_teacher(
        cls,
        teacher_encoder: PreTrainedModel,
        teacher_token_ids: Sequence[int],
        num_labels: int,
        num_layers: int,
        dropout: float = 0.1,
        hidden_size: int | None = None,
        head: nn.Linear | None = None,
    ) -> TransformerClassifier:
        """The teacher's embeddings (rows ``teacher_token_ids``) and first ``num_layers`` layers,
        and its ``head`` when given. With a ``hidden_size`` other than the teacher's the student is
        randomly initialised at that width (intermediate matching then learns a projection)."""
        config = copy.deepcopy(teacher_encoder.config)
        teacher_layers = config.num_hidden_layers
        if not 1 <= num_layers <= teacher_layers:
            raise ValueError(f"num_layers must be in 1..{teacher_layers} (the teacher's), got {num_layers}")
        config.num_hidden_layers = int(num_layers)
        config.vocab_size = len(teacher_token_ids)
        config.pad_token_id = 0
        config._attn_implementation = "eager"  # attention maps are returned for matching
        same_width = hidden_size is None or hidden_size == config.hidden_size
        if not same_width:
            scale = hidden_size / config.hidden_size
            config.hidden_size = int(hidden_size)
            config.intermediate_size = int(round(config.intermediate_size * scale))
        model = cls(_without_pooler(type(teacher_encoder), config), num_labels, dropout)
        if same_width:
            teacher_state = teacher_encoder.state_dict()
            student_state = model.encoder.state_dict()
            copied = {
                key: teacher_state[key]
                for key in student_state
                if key in teacher_state and teacher_state[key].shape == student_state[key].shape
            }
            word_key = next(k for k in student_state if k.endswith("word_embeddings.weight"))
            copied[word_key] = teacher_state[word_key][torch.as_tensor(list(teacher_token_ids))]
            model.encoder.load_state_dict(copied, strict=False)
            missing = set(student_state) - set(copied)
            if missing:
                raise ValueError(f"could not initialise {sorted(missing)} from the teacher")
            if head is not None:
                model.head.load_state_dict(head.state_dict())
        return model

    def features(
        self, token_ids: torch.Tensor, lengths: torch.Tensor, states: bool = False
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, ...], tuple[torch.Tensor, ...], torch.Tensor]:
        """Logits, and with ``states`` the hidden states (embeddings first), attention maps and mask."""
        mask = (torch.arange(token_ids.shape[1], device=token_ids.device) < lengths.unsqueeze(1)).long()
        output = self.encoder(
            input_ids=token_ids,
            attention_mask=mask,
            output_hidden_states=states,
            output_attentions=states,
        )
        hidden = output.last_hidden_state
        weights = mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)
        logits = self.head(self.dropout(pooled))
        if not states:
            return logits, (), (), mask
        return logits, output.hidden_states, output.attentions, mask

    def forward(self, token_ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return self.features(token_ids, lengths)[0]

    def __reduce__(self) -> tuple:
        # pickled as config + weights: transformers attaches unpicklable hooks to a model once
        # attention maps have been requested from it
        config = self.encoder.config
        return (
            _rebuild_transformer,
            (type(self.encoder), config, self.head.out_features, self.dropout.p, self.state_dict()),
        )


def _rebuild_transformer(
    encoder_class: type, config: object, num_labels: int, dropout: float, state: dict[str, torch.Tensor]
) -> TransformerClassifier:
    model = TransformerClassifier(_without_pooler(encoder_class, config), num_labels, dropout)
    model.load_state_dict(state)
    return model


def transformer_student(
    data: StudentData, recipe: StudentRecipe, transfer: Transfer | None, source: EncoderSource
) -> Built:
    """The first layers of the source encoder over the pieces the train split (and the transfer rows)
    use, matching the source teacher's hidden states and attentions when the recipe asks."""
    options = recipe.model.options
    segmenter = SubwordSegmenter(source.tokenizer, source.text_prefix, source.max_length)
    train, dev = (
        segmenter.segment_many(data.split(data.examples, name)["text"].tolist()) for name in ("train", "dev")
    )
    extra = segmenter.segment_many([] if transfer is None else transfer.texts)
    unlabelled = [] if transfer is None else data.split(data.examples, UNLABELLED)["text"].tolist()
    unlabelled = segmenter.segment_many(unlabelled)
    vocabulary, teacher_ids = pruned_vocabulary(source.tokenizer, [*train, *unlabelled, *extra])
    model = TransformerClassifier.from_teacher(
        source.encoder,
        teacher_ids,
        len(data.label_names),
        options.num_layers,
        options.dropout,
        options.hidden_size,
        source.head,
    )
    logger.info(
        "Transformer student: %d of the teacher's %d layers, %d of its %d pieces",
        model.encoder.config.num_hidden_layers,
        source.encoder.config.num_hidden_layers,
        len(vocabulary),
        len(source.tokenizer),
    )
    student = StudentClassifier(model, vocabulary, "subword", data.label_names, source.max_length, segmenter)
    matcher = (
        None
        if source.teacher is None
        else intermediate_matcher(source.teacher, student, teacher_ids, options)
    )
    logits = None if transfer is None else transfer.logits
    return Built(student, train, dev, (extra, logits), matcher, unlabelled_tokens=unlabelled)


def intermediate_matcher(
    teacher: TeacherClassifier,
    student: StudentClassifier,
    teacher_ids: list[int],
    options: TransformerOptions,
) -> IntermediateMatching | None:
    """Hidden-state and attention matching against an online teacher pass; None: logits only."""
    if not (options.hidden_weight or options.attention_weight):
        return None
    return IntermediateMatching(
        teacher.encoder,
        teacher_ids,
        student.model.encoder.config.hidden_size,
        student.model.encoder.config.num_hidden_layers,
        options.layer_map,
        options.hidden_weight,
        options.attention_weight,
        options.hidden_loss,
    )


register_student(
    StudentKind(
        "transformer",
        TransformerOptions,
        TransformerClassifier,
        build=transformer_student,
        needs_teacher=True,  # cut from it, and matched against an online pass
    )
)
