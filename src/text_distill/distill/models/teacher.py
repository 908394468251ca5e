"""The teacher: any Hugging Face encoder + mean pooling + a linear head, with its tokenizer.

The encoder is loaded with ``AutoModel.from_pretrained(path_or_id)``, so a user with a hub or a local
checkpoint points the same code at ``hfl/chinese-roberta-wwm-ext`` or ``bert-base-chinese``.
"""

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn
from tqdm.auto import tqdm
from transformers import AutoModel, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Mean of the token states where ``attention_mask`` is 1."""
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)


@dataclass
class PretrainedEncoder:
    """A pretrained encoder and its tokenizer: the teacher before fine-tuning."""

    encoder: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase

    def save_pretrained(self, directory: str | Path) -> None:
        self.encoder.save_pretrained(directory)
        self.tokenizer.save_pretrained(directory)

    @classmethod
    def from_pretrained(cls, path_or_id: str | Path) -> "PretrainedEncoder":
        try:  # the teacher mean-pools: a pooler would be dead, randomly initialised weight
            encoder = AutoModel.from_pretrained(path_or_id, add_pooling_layer=False)
        except TypeError:  # an architecture without that switch
            encoder = AutoModel.from_pretrained(path_or_id)
        return cls(encoder, AutoTokenizer.from_pretrained(path_or_id))


class TeacherClassifier(nn.Module):
    """Encoder -> mean pooling -> dropout -> linear head over ``label_names``."""

    HEAD_FILE, META_FILE = "head.safetensors", "teacher.json"

    def __init__(
        self,
        base: PretrainedEncoder,
        label_names: Sequence[str],
        max_length: int,
        text_prefix: str = "",
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        self.encoder = base.encoder
        self.tokenizer = base.tokenizer
        self.label_names = list(label_names)
        self.max_length = int(max_length)
        self.text_prefix = text_prefix
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(self.encoder.config.hidden_size, len(self.label_names))

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        token_type_ids: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
    ) -> dict[str, torch.Tensor]:
        hidden = self.encoder(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
        ).last_hidden_state
        logits = self.head(self.dropout(mean_pool(hidden, attention_mask)))
        output = {"logits": logits}
        if labels is not None:
            output["loss"] = nn.functional.cross_entropy(logits, labels)
        return output

    def tokenize(self, texts: Sequence[str], padding: bool | str = False) -> dict[str, Any]:
        """Token ids for texts as the teacher reads them (prefix, truncation to ``max_length``)."""
        return self.tokenizer(
            [self.text_prefix + text for text in texts],
            truncation=True,
            max_length=self.max_length,
            padding=padding,
        )

    def encode(self, texts: Sequence[str]) -> dict[str, torch.Tensor]:
        """Raw texts -> the model's padded input tensors."""
        return {key: torch.as_tensor(value) for key, value in self.tokenize(texts, padding=True).items()}

    @torch.inference_mode()
    def predict_logits(
        self,
        texts: Sequence[str],
        batch_size: int = 64,
        progress: bool = False,
        precision: str = "float32",
    ) -> np.ndarray:
        """Logits for raw texts, in input order, as float32 numpy; batches of similar length to pad
        little. ``precision="bf16"`` runs under bf16 autocast on the model's device (weights stay
        float32)."""
        if precision not in ("float32", "bf16"):
            raise ValueError(f"precision must be float32 or bf16, got {precision!r}")
        self.eval()
        device = next(self.parameters()).device
        autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16")
        order = np.argsort([len(text) for text in texts], kind="stable")
        logits = np.zeros((len(texts), len(self.label_names)), dtype=np.float32)
        starts = range(0, len(texts), batch_size)
        for start in tqdm(starts, desc="teacher", disable=not progress, mininterval=5):
            index = order[start : start + batch_size]
            batch = {key: value.to(device) for key, value in self.encode([texts[i] for i in index]).items()}
            with autocast:
                output = self(**batch)["logits"]
            logits[index] = output.float().cpu().numpy()
        return logits

    def fingerprint(self) -> str:
        """SHA-256 of the weights, tokenizer, labels and input settings: what decides the logits."""
        digest = hashlib.sha256()
        for name, tensor in sorted(self.state_dict().items()):
            digest.update(name.encode())
            digest.update(tensor.detach().contiguous().cpu().numpy().tobytes())
        backend = getattr(self.tokenizer, "backend_tokenizer", None)
        if backend is not None:
            # truncation/padding are call-time switches the tokenizer remembers, not its identity
            spec = {
                k: v for k, v in json.loads(backend.to_str()).items() if k not in ("truncation", "padding")
            }
        else:
            spec = sorted(self.tokenizer.get_vocab().items())
        digest.update(json.dumps(spec, sort_keys=True, ensure_ascii=False).encode())
        digest.update(json.dumps(self._meta(), sort_keys=True).encode())
        return digest.hexdigest()

    def _meta(self) -> dict[str, Any]:
        return {
            "label_names": self.label_names,
            "max_length": self.max_length,
            "text_prefix": self.text_prefix,
            "dropout": self.dropout.p,
        }

    def save_pretrained(self, directory: str | Path) -> None:
        directory = Path(directory)
        PretrainedEncoder(self.encoder, self.tokenizer).save_pretrained(directory)
        save_file({k: v.contiguous() for k, v in self.head.state_dict().items()}, directory / self.HEAD_FILE)
        (directory / self.META_FILE).write_text(json.dumps(self._meta(), ensure_ascii=False, indent=2))

    @classmethod
    def from_pretrained(cls, directory: str | Path) -> "TeacherClassifier":
        directory = Path(directory)
        meta = json.loads((directory / cls.META_FILE).read_text())
        teacher = cls(PretrainedEncoder.from_pretrained(directory), **meta)
        teacher.head.load_state_dict(load_file(directory / cls.HEAD_FILE))
        return teacher.eval()


def mask_token(teacher_base: PretrainedEncoder) -> str:
    """How a masked word is written for the teacher: its tokenizer's mask token, else its unknown one."""
    tokenizer = teacher_base.tokenizer
    token = tokenizer.mask_token or tokenizer.unk_token
    if not token:
        raise ValueError("the teacher tokenizer has neither a mask nor an unknown token to render masks")
    return token
