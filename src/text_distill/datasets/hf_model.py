"""A versioned Kedro dataset for a Hugging Face-style model directory.

kedro-datasets has no dataset for a local ``save_pretrained`` directory; any class with
``save_pretrained(dir)`` and ``from_pretrained(dir)`` fits here. Saves are atomic (``atomic.py``): a
save killed or failing midway leaves no directory that ``load()`` or the latest version would pick.
Each save records its files' sizes and SHA-256 (``integrity.py``); a load whose files are not as
written, or that its loader cannot read, stops in one line naming the file and the catalog's
``metadata.rebuild`` command.
"""

from copy import deepcopy
from pathlib import Path, PurePosixPath
from typing import Any

from kedro.io import AbstractVersionedDataset, DatasetError, Version
from kedro.utils import load_obj
from safetensors import SafetensorError

from text_distill.datasets.atomic import staged_directory
from text_distill.datasets.integrity import (
    DamagedFileError,
    check_manifest,
    first_line,
    rebuild_advice,
    write_manifest,
)

# what a loader raises on a file cut short or garbled: safetensors' SafetensorError, transformers'
# OSError, a JSON ValueError, torch's RuntimeError on a tensor of the wrong size
UNREADABLE = (SafetensorError, OSError, ValueError, RuntimeError, EOFError)


class HFModelDirectoryDataset(AbstractVersionedDataset[Any, Any]):
    """Saves with ``data.save_pretrained(dir)``, loads with ``<model_class>.from_pretrained(dir)``.

    Example::

        teacher:
          type: text_distill.datasets.hf_model.HFModelDirectoryDataset
          filepath: data/06_models/teacher
          model_class: text_distill.distill.models.teacher.TeacherClassifier
          versioned: true
    """

    def __init__(
        self,
        filepath: str,
        model_class: str,
        version: Version | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(filepath=PurePosixPath(filepath), version=version, exists_function=self._exists_dir)
        self._model_class = model_class
        self.metadata = metadata

    @staticmethod
    def _exists_dir(path: str) -> bool:
        return Path(path).is_dir()

    def load(self) -> Any:
        directory = self._checked_load_path()
        try:
            return load_obj(self._model_class).from_pretrained(str(directory))
        except UNREADABLE as error:
            raise self.unloadable(directory, error) from error

    def save(self, data: Any) -> None:
        with staged_directory(Path(str(self._get_save_path()))) as staged:
            data.save_pretrained(staged)
            write_manifest(Path(staged))

    def _checked_load_path(self) -> Path:
        """The directory to load, its files compared with the record of its save."""
        directory = Path(str(self._get_load_path()))
        check_manifest(directory, rebuild_advice(self.metadata))
        return directory

    def unloadable(self, directory: Path, error: BaseException) -> DamagedFileError:
        """A directory its loader cannot read (one saved before records, say): one line, the rebuild."""
        return DamagedFileError(
            f"cannot load {directory} ({first_line(error)}): {rebuild_advice(self.metadata)}"
        )

    def _exists(self) -> bool:
        try:
            return self._exists_dir(str(self._get_load_path()))
        except DatasetError:  # no version saved yet
            return False

    def _describe(self) -> dict[str, Any]:
        return {
            "filepath": str(self._filepath),
            "model_class": self._model_class,
            "version": deepcopy(self._version),
        }
