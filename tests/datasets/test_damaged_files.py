"""Files an earlier run wrote and a later one trusts (issue 25, item 2): a truncated or changed file
is never loaded as valid and never a traceback. A damaged partition of the soft-target store (a
cache) is moved aside with one warning and its rows are computed again; a damaged transfer set,
teacher or student directory stops the run in one line naming the file and the command that
rebuilds it. The store healing inside a whole fill: ``tests/pipelines/test_soft_targets_stage.py``."""

import logging
import os
import pickle
import sys
import types
from pathlib import Path

import pandas as pd
import pytest
import torch
from kedro.io import DataCatalog, DatasetError, Version
from tests.conftest import tiny_encoder

from text_distill.cli import _user_error
from text_distill.datasets.hf_model import HFModelDirectoryDataset
from text_distill.datasets.partitions import AtomicPartitionedDataset, GrowingPartitionedDataset
from text_distill.datasets.student_dir import StudentDirectoryDataset
from text_distill.distill.data.vocab import PAD, UNK
from text_distill.distill.models.student import StudentClassifier
from text_distill.distill.models.teacher import TeacherClassifier
from text_distill.distill.students.ngram import BagOfNgramsClassifier
from text_distill.errors import TextDistillError

# what a save writes beside a partition and inside a model directory, and where a damaged partition goes
RECORD_SUFFIX, DAMAGED_SUFFIX, MANIFEST = ".written.json", ".damaged", "text_distill_files.json"

STORE_REBUILD = {"rebuild": "kedro run --pipeline soft_targets"}


def frame(name: str, rows: int = 3) -> pd.DataFrame:
    return pd.DataFrame(
        {"key": [f"{name}-{i}" for i in range(rows)], "logit": [float(i) for i in range(rows)]}
    )


def store(path: Path, cls=GrowingPartitionedDataset, **options) -> GrowingPartitionedDataset:
    return cls(
        path=str(path),
        dataset="pandas.ParquetDataset",
        filename_suffix=".parquet",
        metadata=STORE_REBUILD,
        **options,
    )


def truncate(path: Path, keep: float = 0.5) -> None:
    """What a full disk or a copy cut short leaves: the first part of the file."""
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def reported(dataset) -> str:
    """The one line the CLI prints for a failed load (Kedro wraps the project's error in its own)."""
    with pytest.raises(DatasetError) as raised:
        dataset.load()
    error = _user_error(raised.value)
    assert isinstance(error, TextDistillError) and "\n" not in str(error)
    return str(error)


def filled_store(tmp_path: Path) -> tuple[GrowingPartitionedDataset, Path]:
    dataset = store(tmp_path / "store")
    dataset.save({"fp/a": frame("a"), "fp/b": frame("b")})
    return dataset, tmp_path / "store" / "fp"


# ---- the store: a damaged partition is moved aside, once, with one warning naming it ----------


def test_a_truncated_store_partition_is_moved_aside_with_one_warning(tmp_path, caplog):
    dataset, folder = filled_store(tmp_path)
    truncate(folder / "a.parquet")
    with caplog.at_level(logging.WARNING):
        partitions = dataset.load()
    assert sorted(partitions) == ["fp/b"]  # a's rows are missing: the fill scores them again
    pd.testing.assert_frame_equal(partitions["fp/b"](), frame("b"))
    assert sorted(p.name for p in folder.iterdir()) == [
        "a.parquet.damaged",
        "b.parquet",
        f"b.parquet{RECORD_SUFFIX}",
    ]
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warning.startswith(f"{folder / 'a.parquet'} is damaged (")
    assert "moved aside to a.parquet.damaged; its rows are computed again" in warning
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert sorted(dataset.load()) == ["fp/b"]  # healed: no second warning
    assert not caplog.records


def test_a_partition_from_before_records_is_checked_by_its_footer(tmp_path):
    dataset, folder = filled_store(tmp_path)
    for record in folder.glob(f"*{RECORD_SUFFIX}"):
        record.unlink()  # a store written before this change
    assert sorted(dataset.load()) == ["fp/a", "fp/b"]  # whole partitions still load
    truncate(folder / "b.parquet", keep=0.9)
    assert sorted(dataset.load()) == ["fp/a"]
    assert (folder / f"b.parquet{DAMAGED_SUFFIX}").is_file()


def test_a_partition_whose_rows_differ_from_its_record_is_moved_aside(tmp_path):
    dataset, folder = filled_store(tmp_path)
    frame("a", rows=2).to_parquet(folder / "a.parquet")  # readable, but not what was written
    assert sorted(dataset.load()) == ["fp/b"]
    assert (folder / f"a.parquet{DAMAGED_SUFFIX}").is_file()


def test_a_partition_changed_in_place_fails_its_checksum(tmp_path, caplog):
    dataset, folder = filled_store(tmp_path)
    original = frame("a").to_parquet()
    changed = frame("a").assign(key=["a-0", "a-1", "a-9"]).to_parquet()
    assert len(changed) == len(original) and changed != original  # same size, other bytes
    (folder / "a.parquet").write_bytes(changed)
    with caplog.at_level(logging.WARNING):
        assert sorted(dataset.load()) == ["fp/b"]
    assert "its SHA-256 differs from the one recorded when it was written" in caplog.text


def test_a_damaged_partition_that_cannot_be_moved_aside_is_one_line_with_the_repair(tmp_path, monkeypatch):
    dataset, folder = filled_store(tmp_path)
    truncate(folder / "a.parquet")

    def read_only(source, target):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", read_only)
    message = reported(dataset)
    assert message.startswith(f"{folder / 'a.parquet'} is damaged (cannot be read: ")
    assert message.endswith(
        f"and cannot be moved aside ([Errno 13] Permission denied): delete it (rm {folder / 'a.parquet'}) "
        "and rebuild it with `kedro run --pipeline soft_targets`"
    )


def test_a_damaged_partition_of_a_set_rebuilt_whole_stops_the_load_in_one_line(tmp_path):
    transfer_set = AtomicPartitionedDataset(
        path=str(tmp_path / "transfer_set"),
        dataset="pandas.ParquetDataset",
        filename_suffix=".parquet",
        overwrite=True,
        metadata={"rebuild": "kedro run --pipeline augment"},
    )
    transfer_set.save({"00000-labelled": frame("a"), "00001-augmented": frame("b")})
    truncate(tmp_path / "transfer_set" / "00001-augmented.parquet")
    message = reported(transfer_set)
    partition = tmp_path / "transfer_set" / "00001-augmented.parquet"
    assert message.startswith(f"{partition} is damaged (cannot be read: Parquet magic bytes not found")
    assert message.endswith(": rebuild it with `kedro run --pipeline augment`")
    assert (tmp_path / "transfer_set" / "00001-augmented.parquet").is_file()  # not a cache: left in place


# ---- model directories: the teacher and the students ----------------------------------------------

TEXTS = ["中国队夺得冠军", "股市今日大涨"]
TEACHER_REBUILD = {"rebuild": "kedro run --pipeline teacher"}


def teacher_dataset(path: Path, save: str | None = None) -> HFModelDirectoryDataset:
    return HFModelDirectoryDataset(
        filepath=str(path / "teacher"),
        model_class="text_distill.distill.models.teacher.TeacherClassifier",
        version=Version(None, save),
        metadata=TEACHER_REBUILD,
    )


@pytest.fixture
def saved_teacher(tmp_path) -> Path:
    """A tiny teacher saved as a version; its directory."""
    teacher_dataset(tmp_path, save="2024-01-01T00.00.00.000Z").save(
        TeacherClassifier(tiny_encoder(TEXTS), ["sports", "finance"], max_length=16)
    )
    (directory,) = (tmp_path / "teacher").glob("*/teacher")
    return directory


def test_a_saved_teacher_records_its_files_and_loads(tmp_path, saved_teacher):
    assert (saved_teacher / MANIFEST).is_file()
    assert isinstance(teacher_dataset(tmp_path).load(), TeacherClassifier)


def test_a_truncated_teacher_weight_file_is_one_line_naming_it(tmp_path, saved_teacher):
    weights = saved_teacher / "model.safetensors"
    size = weights.stat().st_size
    truncate(weights)
    assert reported(teacher_dataset(tmp_path)) == (
        f"{weights} is damaged ({size // 2:,} bytes, {size:,} were written): "
        "rebuild it with `kedro run --pipeline teacher`"
    )


def test_a_truncated_teacher_saved_before_records_is_one_line_not_a_traceback(tmp_path, saved_teacher):
    (saved_teacher / MANIFEST).unlink()
    truncate(saved_teacher / "model.safetensors")
    message = reported(teacher_dataset(tmp_path))
    assert message.startswith(f"cannot load {saved_teacher} (Error while deserializing header: ")
    assert message.endswith("): rebuild it with `kedro run --pipeline teacher`")


def student_dataset(path: Path) -> StudentDirectoryDataset:
    return StudentDirectoryDataset(
        filepath=str(path / "student"), metadata={"rebuild": "kedro run --pipeline student"}
    )


def saved_student(path: Path) -> Path:
    vocabulary = [PAD, UNK, *"中国队股市"]
    torch.manual_seed(0)
    student = StudentClassifier(
        BagOfNgramsClassifier(len(vocabulary), 2, 4), vocabulary, "char", ["a", "b"], 8
    )
    student_dataset(path).save(student.eval())
    return path / "student"


@pytest.mark.parametrize("recorded", [True, False])
def test_a_truncated_student_is_one_line_naming_it_and_the_rebuild(tmp_path, recorded):
    directory = saved_student(tmp_path)
    if not recorded:
        (directory / MANIFEST).unlink()  # a student saved before records
    truncate(directory / "model.safetensors")
    message = reported(student_dataset(tmp_path))
    if recorded:
        assert message.startswith(
            f"{directory / 'model.safetensors'} is damaged (192 bytes, 384 were written)"
        )
    else:
        assert message.startswith(f"cannot load the student saved in {directory}: Error while deserializing")
    assert message.endswith(": rebuild it with `kedro run --pipeline student`")


# ---- any other table or pickle an earlier run wrote: the CLI's one line names the stage ----------


@pytest.mark.parametrize(
    ("dataset", "suffix", "fault"),
    [
        ("pandas.ParquetDataset", ".parquet", "it is damaged or truncated (Parquet magic bytes not found"),
        ("pickle.PickleDataset", ".pkl", "it is damaged or truncated ("),
    ],
)
def test_a_truncated_feature_table_is_one_line_naming_the_stage_that_rewrites_it(
    tmp_path, monkeypatch, dataset, suffix, fault
):
    from kedro.framework import project
    from kedro.pipeline import Pipeline, node

    path = tmp_path / f"segmented_examples{suffix}"
    catalog = DataCatalog.from_config({"segmented_examples": {"type": dataset, "filepath": str(path)}})
    catalog.save("segmented_examples", frame("a", rows=200))
    truncate(path, keep=0.6)
    stages = {"segment": Pipeline([node(lambda: None, None, "segmented_examples", name="segment_texts")])}
    monkeypatch.setattr(project, "pipelines", stages)
    with pytest.raises(DatasetError) as raised:
        catalog.load("segmented_examples")
    message = str(_user_error(raised.value))
    assert message.startswith(f"cannot read segmented_examples ({path}): {fault}") and "\n" not in message
    assert message.endswith(": rebuild it with `kedro run --pipeline segment`")


def test_a_pickle_from_before_the_library_moved_is_one_line_naming_the_stage(tmp_path, monkeypatch):
    """A baseline pickled when the library was flat (``text_distill.distill.baselines``) names a module
    that is gone: one line, the stage that rewrites it, never the loader's traceback."""
    from kedro.framework import project
    from kedro.pipeline import Pipeline, node

    path = tmp_path / "baseline_tfidf_char_svm.pkl"
    old = types.ModuleType("text_distill.distill.baselines")  # where the class lived then
    old.BaselineClassifier = type("BaselineClassifier", (), {"__module__": old.__name__})
    monkeypatch.setitem(sys.modules, old.__name__, old)
    path.write_bytes(pickle.dumps(old.BaselineClassifier()))
    monkeypatch.delitem(sys.modules, old.__name__)
    config = {"baseline_tfidf_char_svm": {"type": "pickle.PickleDataset", "filepath": str(path)}}
    catalog = DataCatalog.from_config(config)
    stages = {"baselines": Pipeline([node(lambda: None, None, "baseline_tfidf_char_svm", name="fit")])}
    monkeypatch.setattr(project, "pipelines", stages)
    with pytest.raises(DatasetError) as raised:
        catalog.load("baseline_tfidf_char_svm")
    message = str(_user_error(raised.value))
    assert message == (
        f"cannot read baseline_tfidf_char_svm ({path}): it was written by an earlier text-distill, whose "
        "module text_distill.distill.baselines no longer exists (the library moved into packages by kind): "
        "rebuild it with `kedro run --pipeline baselines`"
    )
