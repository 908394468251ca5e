"""Put the logits of an older versioned ``soft_targets`` cache into the soft-target store, so that
the store does not score those texts again (the keys are the teacher fingerprint and the text).

    python scripts/import_soft_targets.py \
        data/07_model_output/soft_targets.parquet/<version>/soft_targets.parquet \
        data/03_primary/examples.parquet/<version>/examples.parquet
"""

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from text_distill.datasets.partitions import GrowingPartitionedDataset
from text_distill.distill.data.soft_target_store import known_keys, lazy_partitions, plan_fill

STORE = "data/07_model_output/soft_target_store"  # the catalog's soft_target_store


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("soft_targets", type=Path)
    parser.add_argument("examples", type=Path, help="the examples the cache was made for")
    args = parser.parse_args()
    cache = pd.read_parquet(args.soft_targets)
    examples = pd.read_parquet(args.examples).set_index("example_id")
    if not cache["text_hash"].equals(examples.loc[cache["example_id"], "text_hash"].reset_index(drop=True)):
        raise SystemExit("the cache was made for other examples: pass the examples version it was made for")
    (fingerprint,) = cache["teacher_fingerprint"].unique()
    cached = dict(zip(examples.loc[cache["example_id"], "text"], cache["logits"], strict=True))

    def from_cache(texts: list[str]) -> tuple[np.ndarray, None]:  # the old cache plays the teacher
        return np.stack([cached[text] for text in texts]), None

    # the store's own fill, with the old cache in place of the teacher: texts already stored are skipped
    store = GrowingPartitionedDataset(path=STORE, dataset="pandas.ParquetDataset", filename_suffix=".parquet")
    texts = pd.DataFrame({"teacher_text": list(cached)})
    plan = plan_fill([lambda: texts], "teacher_text", fingerprint, known_keys(store.load(), fingerprint))
    store.save(lazy_partitions(plan, "teacher_text", from_cache))
    print(
        f"{plan.to_score} rows of teacher {fingerprint[:12]} into {STORE} ({plan.store_hits} already there)"
    )


if __name__ == "__main__":
    main()
