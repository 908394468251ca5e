"""A versioned Kedro dataset for a Hugging Face-style model directory.

kedro-datasets has no dataset for a local ``save_pretrained`` directory; any class with
``save_pretrained(dir)`` and ``from_pretrained(dir)`` fits here. Saves are atomic (``atomic.py``): a
save killed or failing midway leaves no directory that ``load()`` or the latest version would pick.
"""

import json
from copy import deepcopy
from pathlib import Path, PurePosixPath
from typing import Any

from kedro.io import AbstractVersionedDataset, DatasetError, Version
from kedro.utils import load_obj

from text_distill.datasets.atomic import staged_directory


class HFModelDirectoryDataset(AbstractVersionedDataset[Any, Any]):
    """Saves with ``data.save_pretrained(dir)``, loads with ``<model_class>.from_pretrained(dir)``.

    Example::

        teacher:
          type: text_distill.datasets.hf_model.HFModelDirectoryDataset
          filepath: data/06_models/teacher
          model_class: text_distill.distill.teacher.TeacherClassifier
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
        return load_obj(self._model_class).from_pretrained(str(self._get_load_path()))

    def save(self, data: Any) -> None:
        with staged_directory(Path(str(self._get_save_path()))) as staged:
            data.save_pretrained(staged)

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


class HFModelCollectionDataset(HFModelDirectoryDataset):
    """A named collection of models (a dict), one ``save_pretrained`` subdirectory per name, their
    order kept in ``members.json``; an empty dict is a valid, empty collection. In the catalog as
    ``HFModelDirectoryDataset``, with ``type: text_distill.datasets.hf_model.HFModelCollectionDataset``
    (``teacher_ensemble`` in ``conf/base/catalog.yml``).
    """

    MEMBERS_FILE = "members.json"

    def load(self) -> dict[str, Any]:
        directory = Path(str(self._get_load_path()))
        names = json.loads((directory / self.MEMBERS_FILE).read_text())
        model_class = load_obj(self._model_class)
        return {name: model_class.from_pretrained(str(directory / name)) for name in names}

    def save(self, data: dict[str, Any]) -> None:
        for name in data:
            if not name or "/" in name or name.startswith("."):
                raise DatasetError(f"collection member name {name!r} is not a plain directory name")
        with staged_directory(Path(str(self._get_save_path()))) as staged:
            for name, model in data.items():
                model.save_pretrained(staged / name)
            (staged / self.MEMBERS_FILE).write_text(json.dumps(list(data)))
