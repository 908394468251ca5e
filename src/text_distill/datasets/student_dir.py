"""Kedro datasets for students saved as directories (``StudentClassifier.save_pretrained``:
``config.json``, ``vocabulary.json``, ``model.safetensors``). kedro-datasets has none for torch
modules; a pickle of the whole object would tie the file to the python classes as they were when it
was written.

Saves are atomic (``atomic.py``): written into a hidden sibling and renamed into place, so a save
that fails midway leaves the previous version (or nothing), never a half-written student.
"""

from typing import Any

from kedro.io import DatasetError, Version

from text_distill.datasets.hf_model import HFModelDirectoryDataset
from text_distill.datasets.integrity import DamagedFileError, rebuild_advice
from text_distill.distill.models.student import StudentClassifier, StudentDirectoryError, load_student

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
        directory = self._checked_load_path()
        try:
            return load_student(directory)
        except StudentDirectoryError as error:  # its one line, with how to rebuild the student
            raise DamagedFileError(f"{error}: {rebuild_advice(self.metadata)}") from error

    def save(self, data: StudentClassifier) -> None:
        if not isinstance(data, StudentClassifier):
            raise DatasetError(f"{type(self).__name__} saves a StudentClassifier, got {type(data).__name__}")
        super().save(data)
