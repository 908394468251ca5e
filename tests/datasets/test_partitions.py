"""Partitioned datasets: with ``overwrite`` a save replaces the whole set, without it a save adds
partitions and keeps the others; the growing store starts empty and only grows."""

import pandas as pd
import pytest
from kedro.io import DatasetError

from text_distill.datasets.partitions import AtomicPartitionedDataset, GrowingPartitionedDataset


def frame(name: str, rows: int = 2) -> pd.DataFrame:
    return pd.DataFrame(
        {"key": [f"{name}-{i}" for i in range(rows)], "logit": [float(i) for i in range(rows)]}
    )


def parquet(cls, path, overwrite: bool = False, **dataset):
    return cls(
        path=str(path),
        dataset={"type": "pandas.ParquetDataset", **dataset},
        filename_suffix=".parquet",
        overwrite=overwrite,
    )


def loaded(dataset) -> dict[str, pd.DataFrame]:
    return {name: load() for name, load in sorted(dataset.load().items())}


def assert_partitions(dataset, expected: dict[str, pd.DataFrame]) -> None:
    found = loaded(dataset)
    assert sorted(found) == sorted(expected)
    for name, data in expected.items():
        pd.testing.assert_frame_equal(found[name], data)


def leftovers(path) -> list[str]:
    return sorted(p.name for p in path.rglob("*") if p.name.startswith("."))


def test_an_overwriting_set_round_trips_and_is_replaced_whole(tmp_path):
    dataset = parquet(AtomicPartitionedDataset, tmp_path / "transfer_set", overwrite=True)
    assert not dataset.exists()
    dataset.save({"00000-labelled": frame("a"), "00001-augmented": frame("b", 3)})
    assert dataset.exists()
    assert_partitions(dataset, {"00000-labelled": frame("a"), "00001-augmented": frame("b", 3)})
    dataset.save({"00000-labelled": frame("c")})
    assert_partitions(dataset, {"00000-labelled": frame("c")})  # 00001 is gone
    assert sorted(p.name for p in tmp_path.iterdir()) == ["transfer_set"] and leftovers(tmp_path) == []


def test_partitions_may_be_saved_lazily(tmp_path):
    dataset = parquet(AtomicPartitionedDataset, tmp_path / "transfer_set", overwrite=True)
    dataset.save({"00000-a": lambda: frame("a")})
    assert_partitions(dataset, {"00000-a": frame("a")})


def test_overwriting_with_no_partitions_leaves_an_empty_set(tmp_path):
    dataset = parquet(AtomicPartitionedDataset, tmp_path / "transfer_set", overwrite=True)
    dataset.save({"00000-a": frame("a")})
    dataset.save({})
    assert not dataset.exists()
    with pytest.raises(DatasetError, match="No partitions found"):
        dataset.load()  # the atomic (not growing) dataset: an empty set is an error to load
    assert leftovers(tmp_path) == []


def test_without_overwrite_a_save_adds_partitions(tmp_path):
    dataset = parquet(AtomicPartitionedDataset, tmp_path / "set")
    dataset.save({"a": frame("a")})
    dataset.save({"b": frame("b")})
    assert_partitions(dataset, {"a": frame("a"), "b": frame("b")})
    assert leftovers(tmp_path) == []


def test_describe_names_the_path_and_partition_dataset(tmp_path):
    described = parquet(AtomicPartitionedDataset, tmp_path / "set")._describe()
    assert described["path"] == str(tmp_path / "set")
    assert described["dataset_type"] == "ParquetDataset"


def test_a_growing_store_starts_empty(tmp_path):
    missing = parquet(GrowingPartitionedDataset, tmp_path / "store")
    assert missing.load() == {} and not missing.exists()
    (tmp_path / "store").mkdir()
    (tmp_path / "store" / "notes.txt").write_text("not a partition")  # another suffix
    assert missing.load() == {} and not missing.exists()


def test_a_growing_store_keeps_old_partitions_and_adds_new_ones(tmp_path):
    store = parquet(GrowingPartitionedDataset, tmp_path / "store")
    store.save({"fp1/00000": frame("a")})
    before = (tmp_path / "store" / "fp1" / "00000.parquet").stat().st_mtime_ns
    store.save({"fp1/00001": frame("b"), "fp2/00000": frame("c")})  # a second teacher: its own folder
    assert store.exists()
    assert_partitions(store, {"fp1/00000": frame("a"), "fp1/00001": frame("b"), "fp2/00000": frame("c")})
    assert (tmp_path / "store" / "fp1" / "00000.parquet").stat().st_mtime_ns == before  # untouched
    assert leftovers(tmp_path) == []


def test_a_growing_store_sees_partitions_another_instance_saved(tmp_path):
    reader, writer = (
        parquet(GrowingPartitionedDataset, tmp_path / "store"),
        parquet(GrowingPartitionedDataset, tmp_path / "store"),
    )
    assert reader.load() == {}
    writer.save({"00000": frame("a")})
    assert_partitions(reader, {"00000": frame("a")})  # no stale listing cached
    writer.save({"00001": frame("b")})
    assert sorted(reader.load()) == ["00000", "00001"]


def test_saving_a_partition_again_replaces_only_it(tmp_path):
    store = parquet(GrowingPartitionedDataset, tmp_path / "store")
    store.save({"00000": frame("a"), "00001": frame("b")})
    store.save({"00001": frame("new", 4)})
    assert_partitions(store, {"00000": frame("a"), "00001": frame("new", 4)})


def test_the_key_column_view_of_the_store(tmp_path):
    """As ``soft_target_store_keys`` reads the store: the key column only."""
    parquet(GrowingPartitionedDataset, tmp_path / "store").save({"00000": frame("a")})
    keys = parquet(GrowingPartitionedDataset, tmp_path / "store", load_args={"columns": ["key"]})
    assert_partitions(keys, {"00000": frame("a")[["key"]]})


def test_versioned_partitions_keep_kedros_layout(tmp_path):
    dataset = parquet(AtomicPartitionedDataset, tmp_path / "set", versioned=True)
    dataset.save({"a": frame("a")})
    (version,) = (tmp_path / "set" / "a.parquet").iterdir()
    assert (version / "a.parquet").is_file()
    assert_partitions(dataset, {"a": frame("a")})
