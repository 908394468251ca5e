"""A partitioned dataset that may be empty: a store that starts with nothing and grows."""

from collections.abc import Callable
from typing import Any

from kedro_datasets.partitions import PartitionedDataset


class GrowingPartitionedDataset(PartitionedDataset):
    """kedro-datasets' ``PartitionedDataset`` (keep ``overwrite: false`` so saves add partitions),
    except that a missing or empty folder loads as no partitions instead of raising: the first run
    of a cache finds it empty.

    Example::

        soft_target_store:
          type: text_distill.datasets.partitions.GrowingPartitionedDataset
          path: data/07_model_output/soft_target_store
          dataset: pandas.ParquetDataset
          filename_suffix: .parquet
    """

    def load(self) -> dict[str, Callable[[], Any]]:
        self._invalidate_caches()
        if not self._list_partitions():
            return {}
        return super().load()
