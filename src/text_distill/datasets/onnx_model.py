"""A serialised ONNX model file, loaded and saved as bytes (kedro-datasets has no ONNX dataset)."""

from pathlib import Path, PurePosixPath
from typing import Any

from kedro.io import AbstractDataset

from text_distill.datasets import atomic


class OnnxModelDataset(AbstractDataset[bytes, bytes]):
    """An ``.onnx`` file as bytes: what onnxruntime sessions are built from; saved atomically."""

    def __init__(self, filepath: str, metadata: dict[str, Any] | None = None) -> None:
        self._filepath = PurePosixPath(filepath)  # kedro-mlflow packages the file from here
        self.metadata = metadata

    def load(self) -> bytes:
        return Path(self._filepath).read_bytes()

    def save(self, data: bytes) -> None:
        atomic.write_bytes(Path(self._filepath), data)

    def _exists(self) -> bool:
        return Path(self._filepath).is_file()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath)}
