"""Partitioned datasets with atomic saves, and one that may be empty: a store that starts with
nothing and grows."""

import posixpath
import uuid
from collections.abc import Callable
from copy import deepcopy
from typing import Any

from kedro.io.core import VERSION_KEY
from kedro_datasets.partitions import PartitionedDataset

from text_distill.datasets.atomic import PARTIAL_SUFFIX


class AtomicPartitionedDataset(PartitionedDataset):
    """kedro-datasets' ``PartitionedDataset``, except that a save killed or failing midway never
    leaves a half-written partition that ``load()`` would list: each partition is written into a
    hidden sibling folder (``.<name>.<random>.partial``) and renamed into place once complete. With
    ``overwrite: true`` the whole new set is written there first and replaces the old set only when
    complete, so a failed save leaves the previous set whole; without, each finished partition is
    kept (a store filled partly keeps what it scored).

    Example::

        transfer_set:
          type: text_distill.datasets.partitions.AtomicPartitionedDataset
          path: data/05_model_input/transfer_set
          dataset: pandas.ParquetDataset
          filename_suffix: .parquet
          overwrite: true
    """

    def save(self, data: dict[str, Any]) -> None:
        if VERSION_KEY in self._dataset_config:  # versioned partitions: kedro's own layout
            super().save(data)
            return
        base = self._filesystem._strip_protocol(self._normalized_path).rstrip(self._sep)
        staging = posixpath.join(
            posixpath.dirname(base), f".{posixpath.basename(base)}.{uuid.uuid4().hex[:8]}{PARTIAL_SUFFIX}"
        )
        try:
            for partition_id, partition_data in sorted(data.items()):
                final = self._partition_to_path(partition_id)
                staged = staging + final[len(base) :]
                self._save_partition(staged, partition_data)
                if not self._overwrite:
                    self._move(staged, final)
            if self._overwrite:
                self._replace_all(staging, base)
        finally:
            if self._filesystem.exists(staging):
                self._filesystem.rm(staging, recursive=True)
            self._invalidate_caches()

    def _save_partition(self, path: str, partition_data: Any) -> None:
        kwargs = deepcopy(self._dataset_config)
        kwargs[self._filepath_arg] = self._join_protocol(path)
        if callable(partition_data) and self._save_lazily:
            partition_data = partition_data()
        self._dataset_type(**kwargs).save(partition_data)

    def _move(self, source: str, target: str) -> None:
        self._filesystem.makedirs(posixpath.dirname(target), exist_ok=True)
        self._filesystem.mv(source, target)

    def _replace_all(self, staging: str, base: str) -> None:
        """The staged set in place of the old one (moved aside first, deleted last)."""
        old = f"{staging}.old"
        if self._filesystem.exists(base):
            self._filesystem.mv(base, old, recursive=True)
        if self._filesystem.exists(staging):  # nothing staged: an empty set
            self._filesystem.mv(staging, base, recursive=True)
        if self._filesystem.exists(old):
            self._filesystem.rm(old, recursive=True)


class GrowingPartitionedDataset(AtomicPartitionedDataset):
    """``AtomicPartitionedDataset`` (keep ``overwrite: false`` so saves add partitions), except that
    a missing or empty folder loads as no partitions instead of raising: the first run of a cache
    finds it empty. In the catalog as ``AtomicPartitionedDataset`` without ``overwrite``, with
    ``type: text_distill.datasets.partitions.GrowingPartitionedDataset`` (``soft_target_store`` in
    ``conf/base/catalog.yml``).
    """

    def load(self) -> dict[str, Callable[[], Any]]:
        self._invalidate_caches()
        if not self._list_partitions():
            return {}
        return super().load()
