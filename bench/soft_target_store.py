"""Filling the soft-target store against the bare teacher forward pass on the same texts.

The fill is the soft-target stage's whole path: read the transfer-set partition, hash every text,
look it up, score the misses, write a new Parquet partition. The bare pass is
``teacher.predict_logits`` on the same texts, same batch size. Rounds alternate the two (who goes
first rotates), and every fill starts from an empty store so that every text is a miss.

Uses the teacher and transfer set of the last `make distill` (augmented rows when there are any):

    .venv/bin/python bench/soft_target_store.py [--texts 4096] [--threads 2] [--rounds 3]
"""

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from kedro_datasets.pandas import ParquetDataset

from tables import print_best_rounds
from teacher_precision import ROOT, latest
from text_distill.datasets.hf_model import HFModelDirectoryDataset
from text_distill.datasets.partitions import GrowingPartitionedDataset
from text_distill.distill.data.soft_target_store import lazy_partitions, plan_fill
from text_distill.distill.evaluation.speed import rotating_rounds
from text_distill.distill.labelling.local_engine import teacher_scorer

TEACHER_CLASS = "text_distill.distill.models.teacher.TeacherClassifier"

BATCH = 64


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=4096)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    teacher = HFModelDirectoryDataset(
        str(latest("data/06_models/teacher/*/teacher")),
        TEACHER_CLASS,
    ).load()
    fingerprint = teacher.fingerprint()
    partitions = sorted((ROOT / "data/05_model_input/transfer_set").glob("*.parquet"))
    transfer = pd.concat(pd.read_parquet(path) for path in partitions)
    augmented = transfer[transfer["source"] == "augmented"]
    rows = (augmented if len(augmented) >= args.texts else transfer).head(args.texts).reset_index(drop=True)
    texts = rows["teacher_text"].tolist()
    work = Path(tempfile.mkdtemp(prefix="store-bench-"))
    partition = ParquetDataset(filepath=str(work / "transfer.parquet"))
    partition.save(rows)
    score = teacher_scorer([teacher], None, BATCH)

    def fill(round_: int, scorer=score, name: str = "store") -> None:
        plan = plan_fill([partition.load], "teacher_text", fingerprint, set())
        store = GrowingPartitionedDataset(
            path=str(work / f"{name}-{round_}"), dataset="pandas.ParquetDataset", filename_suffix=".parquet"
        )
        store.save(lazy_partitions(plan, "teacher_text", scorer))

    def no_teacher(texts: list[str]) -> tuple[np.ndarray, None]:
        return np.zeros((len(texts), len(teacher.label_names)), dtype=np.float32), None

    def overhead(round_: int) -> None:
        fill(round_, no_teacher, "overhead")

    def bare(_: int) -> None:
        teacher.predict_logits(texts, batch_size=BATCH)

    modes = {
        "bare teacher forward pass": bare,
        "store fill (read, hash, look up, score, write)": fill,
        "store fill without the teacher (its overhead alone)": overhead,
    }
    names = list(modes)
    bare(0)  # warm-up

    def measure(name: str, round_: int) -> float:
        start = time.perf_counter()
        modes[name](round_)
        return time.perf_counter() - start

    seconds = rotating_rounds(measure, names, args.rounds)
    base = min(seconds[names[0]])
    print(f"{len(texts)} texts, batch {BATCH}, {args.threads} threads, best of {args.rounds} rounds\n")
    columns = ("path", "seconds", "texts/s", "throughput vs bare")
    print_best_rounds(
        seconds, names, columns, lambda best: f"{best:.1f} | {len(texts) / best:,.0f} | {base / best:.1%}"
    )


if __name__ == "__main__":
    main()
