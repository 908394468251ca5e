"""Partitioned datasets with atomic saves, and one that may be empty: a store that starts with
nothing and grows. Each partition is checked against what was written when it is listed: a damaged
one stops the load in one line, or, in the growing store (a cache), is moved aside and recomputed."""

import json
import logging
import os
import posixpath
import uuid
from collections.abc import Callable
from copy import deepcopy
from pathlib import Path
from typing import Any

import pandas as pd
from kedro.io.core import VERSION_KEY
from kedro_datasets.partitions import PartitionedDataset

from text_distill.datasets.atomic import PARTIAL_SUFFIX, write_bytes
from text_distill.datasets.integrity import (
    DamagedFileError,
    damaged,
    file_record,
    first_line,
    mismatch,
    parquet_problem,
    rebuild_advice,
)

logger = logging.getLogger(__name__)

# beside each partition file: its size, SHA-256 and rows as written (never a partition: the suffix
# differs from the dataset's), and where a damaged partition is moved aside
RECORD_SUFFIX = ".written.json"
DAMAGED_SUFFIX = ".damaged"


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

    def load(self) -> dict[str, Callable[[], Any]]:
        self._check_partitions()
        return super().load()

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
                    # the record first: a kill between the two leaves a record without its partition
                    # (ignored), never a partition with another's record
                    self._move(staged + RECORD_SUFFIX, final + RECORD_SUFFIX)
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
        rows = len(partition_data) if isinstance(partition_data, pd.DataFrame) else None
        if Path(path).is_file():  # a local file: recorded for the loads of later runs
            record = file_record(Path(path), rows)
            write_bytes(Path(path + RECORD_SUFFIX), json.dumps(record).encode())

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

    def _list_partitions(self) -> list[str]:
        # without a filename_suffix the records and the damaged files would be listed too
        return [
            path for path in super()._list_partitions() if not path.endswith((RECORD_SUFFIX, DAMAGED_SUFFIX))
        ]

    def _checked(self) -> bool:
        """Whether partitions are checked: local files, unversioned (Kedro's versions are its own)."""
        return self._protocol == "file" and VERSION_KEY not in self._dataset_config

    def _check_partitions(self) -> None:
        """Compare each partition with its record (and a Parquet one's footer); a damaged one goes
        to ``_damaged``."""
        self._invalidate_caches()
        if not self._checked():
            return
        for path in self._list_partitions():
            problem = partition_problem(Path(path))
            if problem:
                self._damaged(Path(path), problem)
        self._invalidate_caches()

    def _damaged(self, path: Path, problem: str) -> None:
        """A set rebuilt as a whole (the transfer set): the run stops, naming the file."""
        raise damaged(path, problem, rebuild_advice(self.metadata))


def partition_problem(path: Path) -> str | None:
    """Why the partition file at ``path`` cannot be trusted; None when it is as written."""
    record_path = Path(f"{path}{RECORD_SUFFIX}")
    try:
        record = json.loads(record_path.read_text()) if record_path.is_file() else None
    except ValueError:
        record = None  # a damaged record proves nothing about the partition: check what can be
    if path.suffix == ".parquet":
        return parquet_problem(path, record)
    return mismatch(path, record) if record else None


class GrowingPartitionedDataset(AtomicPartitionedDataset):
    """``AtomicPartitionedDataset`` (keep ``overwrite: false`` so saves add partitions), except that
    a missing or empty folder loads as no partitions instead of raising: the first run of a cache
    finds it empty. In the catalog as ``AtomicPartitionedDataset`` without ``overwrite``, with
    ``type: text_distill.datasets.partitions.GrowingPartitionedDataset`` (``soft_target_store`` in
    ``conf/base/catalog.yml``).
    """

    def load(self) -> dict[str, Callable[[], Any]]:
        self._check_partitions()
        if not self._list_partitions():
            return {}
        return PartitionedDataset.load(self)  # checked above

    def _damaged(self, path: Path, problem: str) -> None:
        """A cache heals: the damaged partition is moved aside, so its rows are missing and computed
        again; only when it cannot be moved does the run stop, naming the file."""
        aside = Path(f"{path}{DAMAGED_SUFFIX}")
        try:
            os.replace(path, aside)
        except FileNotFoundError:
            return  # another run moved it aside first
        except OSError as error:
            advice = f"delete it (rm {path}) and {rebuild_advice(self.metadata)}"
            raise DamagedFileError(
                f"{path} is damaged ({problem}) and cannot be moved aside ({first_line(error)}): {advice}"
            ) from error
        Path(f"{path}{RECORD_SUFFIX}").unlink(missing_ok=True)
        logger.warning(
            "%s is damaged (%s): moved aside to %s; its rows are computed again", path, problem, aside.name
        )
