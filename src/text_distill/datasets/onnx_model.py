"""A serialised ONNX model file, loaded and saved as bytes (kedro-datasets has no ONNX dataset)."""

from pathlib import Path, PurePosixPath
from typing import Any

from kedro.io import AbstractDataset


class OnnxModelDataset(AbstractDataset[bytes, bytes]):
    """An ``.onnx`` file as bytes: what onnxruntime sessions are built from."""

    def __init__(self, filepath: str, metadata: dict[str, Any] | None = None) -> None:
        self._filepath = PurePosixPath(filepath)  # kedro-mlflow packages the file from here
        self.metadata = metadata

    def load(self) -> bytes:
        return Path(self._filepath).read_bytes()

    def save(self, data: bytes) -> None:
        path = Path(self._filepath)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    def _exists(self) -> bool:
        return Path(self._filepath).is_file()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath)}
