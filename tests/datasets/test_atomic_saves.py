"""A save killed or failing midway never leaves a version, file or partition that a later load (or
Kedro's latest-version lookup) would pick: model directories, their collections, ONNX files and
partitioned datasets are written beside their target and renamed into place once complete."""

import io
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest
from kedro.io import AbstractDataset, Version

from text_distill.datasets.hf_model import HFModelDirectoryDataset
from text_distill.datasets.onnx_model import OnnxModelDataset
from text_distill.datasets.partitions import AtomicPartitionedDataset, GrowingPartitionedDataset


class Model:
    """A model directory of two files; a save that fails after the first is what a kill does."""

    def __init__(self, value: int, fail: bool = False) -> None:
        self.value, self.fail = value, fail

    def save_pretrained(self, directory) -> None:
        Path(directory).mkdir(exist_ok=True)  # as transformers' save_pretrained does
        (Path(directory) / "config.json").write_text(json.dumps({"value": self.value}))
        if self.fail:
            raise KeyboardInterrupt  # e.g. Ctrl-C while the weights are written
        (Path(directory) / "weights.bin").write_bytes(bytes([self.value]))

    @classmethod
    def from_pretrained(cls, directory: str) -> "Model":
        return cls(json.loads((Path(directory) / "config.json").read_text())["value"])


def model_dataset(path: Path, save: int | None = None):
    version = Version(None, None if save is None else f"2024-01-0{save}T00.00.00.000Z")
    return HFModelDirectoryDataset(
        filepath=str(path / "teacher"), model_class=f"{__name__}.Model", version=version
    )


def test_a_failed_model_save_leaves_no_version(tmp_path):
    model_dataset(tmp_path, save=1).save(Model(1))
    with pytest.raises(KeyboardInterrupt):
        model_dataset(tmp_path, save=2).save(Model(2, fail=True))
    dataset = model_dataset(tmp_path)
    assert len(dataset._get_versions()) == 1
    assert dataset.load().value == 1
    assert not list(tmp_path.rglob("*.partial"))  # the failed save cleaned up after itself


def test_a_killed_model_save_leaves_no_version(tmp_path):
    model_dataset(tmp_path, save=1).save(Model(1))
    script = textwrap.dedent(
        f"""
        import os
        from pathlib import Path
        from kedro.io import AbstractDataset, Version
        from text_distill.datasets.hf_model import HFModelDirectoryDataset

        class Killed:
            def save_pretrained(self, directory):
                (Path(directory) / "config.json").write_text('{{"value": 2}}')
                os._exit(9)  # killed: no exception handler, no clean-up runs

        dataset = HFModelDirectoryDataset({str(tmp_path / "teacher")!r}, "x", version=Version(None, None))
        dataset.save(Killed())
        """
    )
    assert subprocess.run([sys.executable, "-c", script], timeout=120).returncode == 9
    assert list(tmp_path.rglob("config.json.*")) == [] and len(list(tmp_path.rglob("config.json"))) == 2
    assert model_dataset(tmp_path).load().value == 1  # the half-written directory is not a version


def test_an_unversioned_model_directory_is_replaced_whole(tmp_path):
    dataset = HFModelDirectoryDataset(str(tmp_path / "model"), f"{__name__}.Model")
    dataset.save(Model(1))
    (tmp_path / "model" / "stale.txt").write_text("from an older save")
    with pytest.raises(KeyboardInterrupt):
        dataset.save(Model(2, fail=True))
    assert dataset.load().value == 1 and (tmp_path / "model" / "weights.bin").exists()
    dataset.save(Model(3))
    assert dataset.load().value == 3 and not (tmp_path / "model" / "stale.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


class HalfWriter:
    """A file whose ``write`` stops halfway, as a kill or a full disk would."""

    def __init__(self, file) -> None:
        self.file = file

    def __enter__(self) -> "HalfWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.file.close()

    def write(self, data) -> int:
        self.file.write(bytes(data)[: len(data) // 2])
        self.file.flush()
        raise KeyboardInterrupt


def test_an_onnx_save_stopped_midway_keeps_the_previous_file(tmp_path, monkeypatch):
    dataset = OnnxModelDataset(str(tmp_path / "student.onnx"))
    dataset.save(b"the first export")
    real_open = io.open
    monkeypatch.setattr(io, "open", lambda *args, **kwargs: HalfWriter(real_open(*args, **kwargs)))
    with pytest.raises(KeyboardInterrupt):
        dataset.save(b"the second export, longer")
    monkeypatch.undo()
    assert dataset.load() == b"the first export" and [p.name for p in tmp_path.iterdir()] == ["student.onnx"]


def partitions(fail_at: str | None = None) -> dict:
    def part(name: str):
        def build() -> pd.DataFrame:
            if name == fail_at:
                raise KeyboardInterrupt
            return pd.DataFrame({"part": [name] * 3})

        return build

    return {name: part(name) for name in ("00000-a", "00001-b", "00002-c")}


def loaded(dataset) -> dict[str, list[str]]:
    return {name: load()["part"].tolist() for name, load in dataset.load().items()}


def partitioned(cls, path: Path, overwrite: bool):
    return cls(
        path=str(path), dataset="pandas.ParquetDataset", filename_suffix=".parquet", overwrite=overwrite
    )


def test_a_failed_overwrite_keeps_the_previous_partitions(tmp_path):
    dataset = partitioned(AtomicPartitionedDataset, tmp_path / "transfer_set", overwrite=True)
    dataset.save({"old": lambda: pd.DataFrame({"part": ["old"]})})
    with pytest.raises(KeyboardInterrupt):
        dataset.save(partitions(fail_at="00001-b"))
    assert loaded(dataset) == {"old": ["old"]}
    dataset.save(partitions())
    assert sorted(loaded(dataset)) == ["00000-a", "00001-b", "00002-c"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["transfer_set"]


class TextFileDataset(AbstractDataset[str, str]):
    """One partition as a text file; the text ``"stop"`` is written halfway, then the save stops."""

    def __init__(self, filepath: str) -> None:
        self._filepath = Path(filepath)

    def load(self) -> str:
        return self._filepath.read_text()

    def save(self, data: str) -> None:
        self._filepath.parent.mkdir(parents=True, exist_ok=True)
        self._filepath.write_text("half a partition" if data == "stop" else data)
        if data == "stop":
            raise KeyboardInterrupt

    def _describe(self) -> dict:
        return {"filepath": str(self._filepath)}


def test_a_fill_stopped_midway_keeps_the_finished_partitions_and_no_partial_one(tmp_path):
    dataset = GrowingPartitionedDataset(
        path=str(tmp_path / "store"), dataset=f"{__name__}.TextFileDataset", filename_suffix=".txt"
    )
    with pytest.raises(KeyboardInterrupt):
        dataset.save({"00000-a": "a whole partition", "00001-b": "stop"})
    assert {name: load() for name, load in dataset.load().items()} == {"00000-a": "a whole partition"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store"]
