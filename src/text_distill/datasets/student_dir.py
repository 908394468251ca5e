"""Kedro datasets for students saved as directories (``StudentClassifier.save_pretrained``:
``config.json``, ``vocabulary.json``, ``model.safetensors``), one student or a list of them (the
seed replicas). kedro-datasets has none for torch modules; a pickle of the whole object would tie
the file to the python classes as they were when it was written.

Saves are atomic (``atomic.py``): written into a hidden sibling and renamed into place, so a save
that fails midway leaves the previous version (or nothing), never a half-written student.
"""

import json
from pathlib import Path
from typing import Any

from kedro.io import DatasetError, Version

from text_distill.datasets.atomic import staged_directory
from text_distill.datasets.hf_model import HFModelDirectoryDataset
from text_distill.distill.student import StudentClassifier, load_student

STUDENT_CLASS = f"{StudentClassifier.__module__}.{StudentClassifier.__qualname__}"


class StudentDirectoryDataset(HFModelDirectoryDataset):
    """One student directory, optionally versioned.

    Example::

        student:
          type: text_distill.datasets.student_dir.StudentDirectoryDataset
          filepath: data/06_models/student
          versioned: true
    """

    def __init__(
        self,
        filepath: str,
        version: Version | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(filepath, STUDENT_CLASS, version, metadata)

    def load(self) -> StudentClassifier:
        return load_student(Path(str(self._get_load_path())))

    def save(self, data: StudentClassifier) -> None:
        if not isinstance(data, StudentClassifier):
            raise DatasetError(f"{type(self).__name__} saves a StudentClassifier, got {type(data).__name__}")
        super().save(data)


class StudentListDataset(StudentDirectoryDataset):
    """A list of students (the seed replicas, in seed order): one student directory per entry,
    ``0/``, ``1/``..., their count in ``members.json``; an empty list is a valid, empty folder.

    Example::

        student_replicas:
          type: text_distill.datasets.student_dir.StudentListDataset
          filepath: data/06_models/student_replicas
          versioned: true
    """

    MEMBERS_FILE = "members.json"

    def load(self) -> list[StudentClassifier]:
        directory = Path(str(self._get_load_path()))
        names = json.loads((directory / self.MEMBERS_FILE).read_text())
        return [load_student(directory / name) for name in names]

    def save(self, data: list[StudentClassifier]) -> None:
        with staged_directory(Path(str(self._get_save_path()))) as staged:
            names = [str(index) for index in range(len(data))]
            for name, student in zip(names, data, strict=True):
                student.save_pretrained(staged / name)
            # written last: a folder with it is complete (the rename makes that atomic anyway)
            (staged / self.MEMBERS_FILE).write_text(json.dumps(names))
