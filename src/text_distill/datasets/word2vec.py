"""Read-only dataset for word2vec vector files (kedro-datasets has none)."""

from pathlib import PurePosixPath
from typing import Any

from gensim.models import KeyedVectors
from kedro.io import AbstractDataset, DatasetError


class Word2VecDataset(AbstractDataset[None, KeyedVectors]):
    """Loads a word2vec file with gensim ``KeyedVectors.load_word2vec_format``."""

    def __init__(self, filepath: str, binary: bool = True, metadata: dict[str, Any] | None = None):
        self._filepath = PurePosixPath(filepath)
        self._binary = binary
        self.metadata = metadata

    def load(self) -> KeyedVectors:
        return KeyedVectors.load_word2vec_format(
            str(self._filepath), binary=self._binary, unicode_errors="ignore"
        )

    def save(self, data: None) -> None:
        raise DatasetError("Word2VecDataset is read-only")

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath), "binary": self._binary}
