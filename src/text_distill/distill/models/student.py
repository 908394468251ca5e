"""A student bundled with what it needs to read raw text: unit (word, char or the teacher's pieces),
vocabulary, labels; saved as a directory like ``save_pretrained`` (``load_student`` reads it back):

- ``config.json``: the network's architecture and constructor arguments, the labels, the unit, the
  tokens read per text and the segmenter's kind and settings;
- ``vocabulary.json``: token -> id;
- ``model.safetensors``: the weights;
- whatever the segmenter keeps beside them (a transformer student's ``tokenizer/``).
"""

import importlib
import itertools
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_model, save_model
from torch import nn

from text_distill.distill.data.text import SEGMENTERS, normalise_text
from text_distill.distill.data.vocab import UNK
from text_distill.distill.models.student_kinds import STUDENT_KINDS, Encoder
from text_distill.errors import TextDistillError

CONFIG_FILE, VOCABULARY_FILE, WEIGHTS_FILE = "config.json", "vocabulary.json", "model.safetensors"
FORMAT = 1  # bumped when the layout changes, so an older reader refuses a newer directory
# segmenters a saved student may carry, by their ``kind``: ``save(dir) -> config`` and
# ``load(config, dir)``; the subword one imports transformers, so it is imported only when needed
SEGMENTER_KINDS: dict[str, str] = {
    "words": "text_distill.distill.data.text:Segmenter",
    "subword": "text_distill.distill.students.transformer:SubwordSegmenter",
}


class StudentDirectoryError(TextDistillError):
    """A saved student directory is missing, incomplete or unreadable."""


def pad(flat: np.ndarray, lengths: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """Texts' ids, one after another in ``flat`` (``lengths`` each), right-padded with 0 into one
    matrix (one scatter, no tensor per row), and the lengths."""
    rows = np.repeat(np.arange(len(lengths)), lengths)
    columns = np.arange(len(flat)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    padded = np.zeros((len(lengths), int(lengths.max(initial=1))), dtype=np.int64)
    padded[rows, columns] = flat
    return torch.from_numpy(padded), torch.from_numpy(lengths)


class StudentClassifier(nn.Module):
    """Raw text -> normalise -> segment -> token ids -> ``model`` -> logits."""

    segmenter: Callable[[str], list[str]] | None = None  # also the value of students pickled before it

    def __init__(
        self,
        model: nn.Module,
        vocabulary: Sequence[str],
        unit: str,
        label_names: Sequence[str],
        max_tokens: int,
        segmenter: Callable[[str], list[str]] | None = None,
    ) -> None:
        """``segmenter`` (e.g. the teacher's tokenizer for a transformer student) replaces the
        unit's built-in one; it must be picklable."""
        super().__init__()
        if segmenter is None and unit not in SEGMENTERS:
            raise ValueError(f"unit must be one of {sorted(SEGMENTERS)}, got {unit!r}")
        self.model = model
        self.segmenter = segmenter
        self.token_ids = {token: i for i, token in enumerate(vocabulary)}
        self.unit = unit
        self.label_names = list(label_names)
        self.max_tokens = int(max_tokens)

    def ids(self, tokens: Sequence[str]) -> list[int]:
        lookup, unknown = self.token_ids.get, self.token_ids[UNK]
        return [lookup(token, unknown) for token in tokens[: self.max_tokens]]

    def batch(self, id_lists: Sequence[Sequence[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        """Right-padded ids and the true lengths (an empty text becomes one ``<unk>``)."""
        unknown = self.token_ids[UNK]
        id_lists = [ids or [unknown] for ids in id_lists]
        lengths = np.fromiter(map(len, id_lists), dtype=np.int64, count=len(id_lists))
        flat = np.fromiter(itertools.chain.from_iterable(id_lists), dtype=np.int64, count=int(lengths.sum()))
        return pad(flat, lengths)

    def forward(self, token_ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return self.model(token_ids, lengths)

    def encode(self, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Raw texts -> normalised -> segmented -> the model's padded input: what serving does."""
        fast = self.fast_encoder
        if fast is not None:  # the same ids as the string path below, a batch at a time
            return fast(texts)
        segment = self.segmenter or SEGMENTERS[self.unit]
        return self.batch([self.ids(segment(normalise_text(text))) for text in texts])

    @property
    def fast_encoder(self) -> Encoder | None:
        """The student kind's batch encoder (``StudentKind.batch_encoder``, e.g. the n-gram student's
        integer keys), if it has one: built on first use from the vocabulary, never saved."""
        if "_fast_encoder" not in self.__dict__:
            kind = STUDENT_KINDS.get(getattr(self.model, "architecture", None))
            hook = None if kind is None else kind.batch_encoder
            self.__dict__["_fast_encoder"] = None if hook is None else hook(self)
        return self.__dict__["_fast_encoder"]

    def __getstate__(self) -> dict:
        state = super().__getstate__()
        state.pop("_fast_encoder", None)
        return state

    @torch.inference_mode()
    def predict_logits(
        self,
        texts: Sequence[str],
        batch_size: int = 256,
        network: Callable[[torch.Tensor, torch.Tensor], np.ndarray] | None = None,
    ) -> np.ndarray:
        """Logits for raw texts: segmentation included, as in serving. ``network`` runs the encoded
        batches instead of the torch model (e.g. the ONNX export in onnxruntime)."""
        self.eval()
        run = network or (lambda token_ids, lengths: self(token_ids, lengths).numpy())
        outputs = []
        for start in range(0, len(texts), batch_size):
            outputs.append(np.asarray(run(*self.encode(texts[start : start + batch_size]))))
        return np.concatenate(outputs) if outputs else np.zeros((0, len(self.label_names)), np.float32)

    @classmethod
    def from_pretrained(cls, directory: str | Path) -> "StudentClassifier":
        """``load_student``: the name the directory datasets call."""
        return load_student(directory)

    def save_pretrained(self, directory: str | Path) -> None:
        """Write the student into ``directory`` (see the module docstring); ``load_student`` reads it."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        segmenter = None
        if self.segmenter is not None:
            segmenter = {"kind": type(self.segmenter).kind, **self.segmenter.save(directory)}
        config = {
            "format": FORMAT,
            "architecture": self.model.architecture,
            "network": self.model.config(),
            "label_names": self.label_names,
            "unit": self.unit,
            "max_tokens": self.max_tokens,
            "segmenter": segmenter,
        }
        (directory / VOCABULARY_FILE).write_text(json.dumps(self.token_ids, ensure_ascii=False))
        save_model(self.model, str(directory / WEIGHTS_FILE))
        (directory / CONFIG_FILE).write_text(json.dumps(config, ensure_ascii=False, indent=2))


def _import(path: str) -> Any:
    module, name = path.split(":")
    return getattr(importlib.import_module(module), name)


def _read_config(directory: Path) -> dict[str, Any]:
    try:
        config = json.loads((directory / CONFIG_FILE).read_text())
        missing = {"architecture", "network", "label_names", "unit", "max_tokens"} - set(config)
    except (OSError, ValueError, TypeError) as error:
        raise StudentDirectoryError(
            f"{directory} is not a saved student: its {CONFIG_FILE} is missing or unreadable ({error})"
        ) from error
    if missing or config.get("format", FORMAT) > FORMAT:
        raise StudentDirectoryError(
            f"{directory / CONFIG_FILE} is not a student config this version reads "
            f"(format {config.get('format')}, missing {sorted(missing)})"
        )
    return config


def load_student(directory: str | Path) -> StudentClassifier:
    """The student ``save_pretrained`` wrote into ``directory``, in eval mode."""
    directory = Path(directory)
    config = _read_config(directory)
    try:
        model = STUDENT_KINDS[config["architecture"]].network_class().from_config(config["network"])
        load_model(model, str(directory / WEIGHTS_FILE))
        vocabulary = json.loads((directory / VOCABULARY_FILE).read_text())
        segmenter = config["segmenter"]
        if segmenter is not None:
            kind = segmenter.pop("kind")
            if kind not in SEGMENTER_KINDS:
                raise ValueError(
                    f"unknown segmenter kind {kind!r}, expected one of {sorted(SEGMENTER_KINDS)}"
                )
            segmenter = _import(SEGMENTER_KINDS[kind]).load(segmenter, directory)
    except (OSError, ValueError, KeyError, TypeError, RuntimeError, SafetensorError) as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise StudentDirectoryError(f"cannot load the student saved in {directory}: {first_line}") from error
    student = StudentClassifier(
        model, [], config["unit"], config["label_names"], config["max_tokens"], segmenter
    )
    student.token_ids = vocabulary  # the saved mapping itself: ids exactly as trained
    return student.eval()
