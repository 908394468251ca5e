"""A student bundled with what it needs to read raw text: unit (word, char or the teacher's pieces),
vocabulary, labels."""

import itertools
from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn

from text_distill.distill.text import SEGMENTERS, normalise_text
from text_distill.distill.vocab import UNK


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
        # one flat array scattered into the padded matrix: no per-row tensor
        flat = np.fromiter(itertools.chain.from_iterable(id_lists), dtype=np.int64, count=int(lengths.sum()))
        rows = np.repeat(np.arange(len(id_lists)), lengths)
        columns = np.arange(len(flat)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        padded = np.zeros((len(id_lists), int(lengths.max())), dtype=np.int64)
        padded[rows, columns] = flat
        return torch.from_numpy(padded), torch.from_numpy(lengths)

    def forward(self, token_ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return self.model(token_ids, lengths)

    def encode(self, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Raw texts -> normalised -> segmented -> the model's padded input: what serving does."""
        segment = self.segmenter or SEGMENTERS[self.unit]
        return self.batch([self.ids(segment(normalise_text(text))) for text in texts])

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
