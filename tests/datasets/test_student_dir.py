"""The student dataset: versioned directories, saved atomically so a save failing midway leaves the
previous version."""

import numpy as np
import pytest
import torch
from kedro.io import DatasetError, Version

from text_distill.datasets.student_dir import StudentDirectoryDataset
from text_distill.distill.data.vocab import PAD, UNK
from text_distill.distill.models.student import StudentClassifier
from text_distill.distill.students.ngram import BagOfNgramsClassifier

VOCABULARY = [PAD, UNK, *"中国队股市"]
TEXTS = ["中国队", "股市", ""]


def student(seed: int) -> StudentClassifier:
    torch.manual_seed(seed)
    network = BagOfNgramsClassifier(len(VOCABULARY), 2, embedding_dim=4)
    return StudentClassifier(network, VOCABULARY, "char", ["a", "b"], 8).eval()


class FailingStudent(StudentClassifier):
    """Fails after writing part of itself: what a full disk or Ctrl-C during the weights does."""

    def save_pretrained(self, directory) -> None:
        super().save_pretrained(directory)
        (directory / "model.safetensors").write_bytes(b"half")
        raise KeyboardInterrupt


def dataset(tmp_path, save: int | None = None):
    version = Version(None, None if save is None else f"2024-01-0{save}T00.00.00.000Z")
    return StudentDirectoryDataset(filepath=str(tmp_path / "student"), version=version)


def test_versions_of_a_student_directory_load_the_latest(tmp_path):
    first, second = student(0), student(1)
    dataset(tmp_path, save=1).save(first)
    dataset(tmp_path, save=2).save(second)
    assert (tmp_path / "student/2024-01-02T00.00.00.000Z/student/model.safetensors").is_file()
    loaded = dataset(tmp_path).load()
    np.testing.assert_array_equal(loaded.predict_logits(TEXTS), second.predict_logits(TEXTS))
    assert dataset(tmp_path).exists()


def test_an_unversioned_student_directory(tmp_path):
    unversioned = StudentDirectoryDataset(filepath=str(tmp_path / "serving/student"))
    assert not unversioned.exists()
    unversioned.save(student(0))
    assert (tmp_path / "serving/student/config.json").is_file() and unversioned.exists()
    unversioned.save(student(1))  # replaced whole
    np.testing.assert_array_equal(unversioned.load().predict_logits(TEXTS), student(1).predict_logits(TEXTS))


def test_a_failed_save_leaves_the_previous_version(tmp_path):
    dataset(tmp_path, save=1).save(student(0))
    failing = FailingStudent(BagOfNgramsClassifier(len(VOCABULARY), 2, 4), VOCABULARY, "char", ["a", "b"], 8)
    with pytest.raises(KeyboardInterrupt):
        dataset(tmp_path, save=2).save(failing)
    assert len(dataset(tmp_path)._get_versions()) == 1
    kept = dataset(tmp_path).load()
    np.testing.assert_array_equal(kept.predict_logits(TEXTS), student(0).predict_logits(TEXTS))
    assert not list(tmp_path.rglob("*.partial"))


def test_only_a_student_is_saved(tmp_path):
    with pytest.raises(DatasetError, match="saves a StudentClassifier"):
        dataset(tmp_path).save({"not": "a student"})
