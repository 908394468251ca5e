"""Put the logits of an older versioned ``soft_targets`` cache into the soft-target store, so that
the store does not score those texts again (the keys are the teacher fingerprint and the text).

    python scripts/import_soft_targets.py \
        data/07_model_output/soft_targets.parquet/<version>/soft_targets.parquet \
        data/03_primary/examples.parquet/<version>/examples.parquet
"""

import argparse
from pathlib import Path

import pandas as pd

from text_distill.distill.soft_target_store import STORE_COLUMNS, store_key, teacher_folder

STORE = Path("data/07_model_output/soft_target_store")


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
    texts = examples.loc[cache["example_id"], "text"]
    rows = pd.DataFrame(
        {
            "key": [store_key(fingerprint, text) for text in texts],
            "teacher_fingerprint": fingerprint,
            "logits": cache["logits"].to_numpy(),
        }
    )[STORE_COLUMNS]
    target = STORE / teacher_folder(fingerprint) / f"{rows['key'].iloc[0]}.parquet"
    target.parent.mkdir(parents=True, exist_ok=True)
    rows.to_parquet(target, index=False)
    print(f"{len(rows)} rows of teacher {fingerprint[:12]} -> {target}")


if __name__ == "__main__":
    main()
