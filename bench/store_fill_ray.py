"""Filling the soft-target store in this process against on Ray Data with 1 and 2 actors.

Every fill is the soft-target stage's engine path (``SCORING_ENGINES``): plan the misses of
``--texts`` transfer-set texts cut into ``--partitions`` Parquet partitions, score them, save them
into an empty store. Ray runs locally (``ray.init(num_cpus=2)`` once, not timed); a Ray fill's
time includes shipping the teacher to its actors and starting them. "Running" sends the same texts
to labelling actors already started and warm (``ray_batch_texts`` per call, round robin; locally:
the scorer alone): the steady rate a long fill tends to, and per actor the rate a projection
scales. A last engine runs the Ray pipeline with a teacher that returns zeros: Ray's own cost.
Rounds rotate the order of all the measurements.

Uses the teacher and transfer set of the last `make distill`:

    cd bench && ../.venv/bin/python store_fill_ray.py [--texts 2048] [--partitions 8] [--rounds 2]
        [--ceiling 100000] [--actor-batch 128] [--actor-gpus 0]

``--actor-gpus 1`` on a GPU node scores on cuda in the Ray engines (the local one stays on the
CPU): the measured per-actor rate to put in place of the projection in docs/benchmarks.md.
"""

import argparse
import logging
import os
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from kedro_datasets.pandas import ParquetDataset

from teacher_precision import ROOT, latest, machine
from text_distill.datasets.hf_model import HFModelDirectoryDataset
from text_distill.datasets.partitions import GrowingPartitionedDataset
from text_distill.distill.data.soft_target_store import plan_fill
from text_distill.distill.evaluation.speed import rotating_rounds
from text_distill.distill.labelling.engines import SCORING_ENGINES, TeacherScoring
from text_distill.distill.labelling.ray_engine import RayLabelling, TeacherActor
from text_distill.distill.runtimes.ray_runtime import connect

TEACHER_CLASS = "text_distill.distill.models.teacher.TeacherClassifier"

BATCH = 64
RAY = {"address": None, "num_cpus": 2}


class BenchActor(TeacherActor):
    """The labelling actor, called directly (no Ray Data) once it is up."""

    def score(self, texts: list[str]) -> int:
        batch = {"partition": np.zeros(len(texts), int), "row": np.arange(len(texts))}
        return len(self({**batch, "text": np.array(texts, dtype=object)})["key"])


class ZeroTeacher:
    """A teacher that returns zeros at once: what is left is the pipeline's own cost."""

    def __init__(self, labels: int) -> None:
        self.labels = labels

    def predict_logits(self, texts: list[str], batch_size: int = 64, **_: object) -> np.ndarray:
        return np.zeros((len(texts), self.labels), np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=2048)
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--actor-batch", type=int, default=128, help="ray_batch_texts")
    parser.add_argument("--actor-gpus", type=float, default=0, help="actor_gpus (on a GPU node: 1)")
    parser.add_argument("--rounds", type=int, default=2, help="0: the ceiling alone")
    parser.add_argument("--ceiling", type=int, default=0, help="texts of the zero-teacher fills (0: none)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    torch.set_num_threads(2)
    directory = latest("data/06_models/teacher/*/teacher")
    teacher = HFModelDirectoryDataset(str(directory), TEACHER_CLASS).load()
    fingerprint = teacher.fingerprint()
    transfer = pd.concat(
        pd.read_parquet(path)
        for path in sorted((ROOT / "data/05_model_input/transfer_set").glob("*.parquet"))
    )
    work = Path(tempfile.mkdtemp(prefix="store-fill-ray-"))

    def transfer_set(size: int, partitions: int) -> list:
        """``size`` texts (the transfer set's last ones: not the train split's first) in equal partitions."""
        rows = transfer.tail(size).reset_index(drop=True)
        size = len(rows)  # at most the whole transfer set
        loads = []
        for n, part in enumerate(np.array_split(np.arange(size), partitions)):
            dataset = ParquetDataset(filepath=str(work / f"transfer-{size}" / f"{n:05d}.parquet"))
            dataset.save(rows.iloc[part].reset_index(drop=True))
            loads.append(dataset.load)  # as the catalog hands them over: picklable for Ray's readers
        return loads

    loads = transfer_set(args.texts, args.partitions)
    pool = {"ray_batch_texts": args.actor_batch, "actor_gpus": args.actor_gpus}
    engines = {
        "local, 2 torch threads": ("local", {}, [teacher]),
        "Ray, 1 actor x 2 threads (1 CPU)": (
            "ray",
            {**pool, "ray_actors": 1, "actor_cpus": 1, "actor_threads": 2},
            [teacher],
        ),
        "Ray, 2 actors x 1 thread (0.5 CPU each)": (
            "ray",
            {**pool, "ray_actors": 2, "actor_cpus": 0.5},
            [teacher],
        ),
        "Ray, 2 actors, teacher returning zeros": (
            "ray",
            {**pool, "ray_actors": 2, "actor_cpus": 0.5},
            [ZeroTeacher(len(teacher.label_names))],
        ),
    }
    began = time.perf_counter()
    connect(RAY)
    ray_start = time.perf_counter() - began
    import ray

    ray.data.DataContext.get_current().enable_progress_bars = False
    texts = pd.concat([load() for load in loads])["teacher_text"].tolist()
    chunks = [texts[i : i + args.actor_batch] for i in range(0, len(texts), args.actor_batch)]

    def fill(name: str, loads: list = loads) -> float:
        engine, params, members = engines[name]
        started = time.perf_counter()
        plan = plan_fill(loads, "teacher_text", fingerprint, set())
        scoring = TeacherScoring(members, None, BATCH, "float32")
        partitions, _ = SCORING_ENGINES[engine](plan, "teacher_text", scoring, params, RAY)
        store = work / f"store-{time.time_ns()}"
        GrowingPartitionedDataset(
            path=str(store), dataset="pandas.ParquetDataset", filename_suffix=".parquet"
        ).save(partitions)
        return time.perf_counter() - started

    def running(name: str) -> float:
        """The same texts through actors already started and warm: the steady rate."""
        engine, params, members = engines[name]
        if engine == "local":
            started = time.perf_counter()
            TeacherScoring(members, None, BATCH).scorer()(texts)
            return time.perf_counter() - started
        pool = RayLabelling.from_params(params)
        remote = ray.remote(num_cpus=pool.actor_cpus, num_gpus=pool.actor_gpus)(BenchActor)
        scoring = {"weights": None, "batch_size": BATCH, "precision": "float32"}
        members_ref = ray.put(members)
        actors = [
            remote.remote([members_ref], scoring, fingerprint, pool.device, pool.threads)
            for _ in range(pool.actors)
        ]
        ray.get([actor.score.remote(texts[:BATCH]) for actor in actors])  # started and warm
        started = time.perf_counter()
        ray.get([actors[n % len(actors)].score.remote(chunk) for n, chunk in enumerate(chunks)])
        seconds = time.perf_counter() - started
        for actor in actors:
            ray.kill(actor)
        return seconds

    modes = {f"fill: {name}": partial(fill, name) for name in engines}
    modes.update({f"running: {name}": partial(running, name) for name in engines})

    def measure(mode: str, round_: int) -> float:
        seconds = modes[mode]()
        print(f"  {mode}: {seconds:.1f} s (load {os.getloadavg()[0]:.2f})", flush=True)
        return seconds

    def report() -> None:
        teacher.predict_logits(texts[:BATCH], BATCH)  # warm-up
        load_before = os.getloadavg()
        seconds = rotating_rounds(measure, list(modes), args.rounds)
        load_after = os.getloadavg()
        print(f"\n{args.texts} texts in {args.partitions} partitions, ray_batch_texts {args.actor_batch}")
        print(f"local Ray start (not timed below): {ray_start:.1f} s; best of {args.rounds} rounds")
        print(f"load average (1/5/15 min) before: {load_before}, after: {load_after}\n")
        print("| engine | fill s | fill texts/s | vs local | running texts/s | vs local | start-up s |")
        print("|---|---|---|---|---|---|---|")
        local = next(iter(engines))
        for name in engines:
            fill_s, run_s = min(seconds[f"fill: {name}"]), min(seconds[f"running: {name}"])
            local_fill, local_run = min(seconds[f"fill: {local}"]), min(seconds[f"running: {local}"])
            cells = [
                f"{fill_s:.1f}",
                f"{args.texts / fill_s:,.0f}",
                f"{local_fill / fill_s:.2f}x",
                f"{args.texts / run_s:,.0f}",
                f"{local_run / run_s:.2f}x",
                f"{fill_s - run_s:.1f}",
            ]
            print(f"| {name} | {' | '.join(cells)} |")

    def ceiling() -> None:
        """Zero-teacher fills of a tenth of ``--ceiling`` texts and of all, 10,000 a partition:
        the difference is what the pipeline itself carries per second once started."""
        local_zero = "local, teacher returning zeros"
        engines[local_zero] = ("local", {}, engines["Ray, 2 actors, teacher returning zeros"][2])
        sets = [transfer_set(size, max(1, size // 10_000)) for size in (args.ceiling // 10, args.ceiling)]
        sizes = [sum(len(load()) for load in loads) for loads in sets]
        print(f"\nteacher returning zeros, {sizes[0]} and {sizes[1]} texts (load {os.getloadavg()[0]:.2f}):")
        print("| engine | small fill s | large fill s | texts/s once started | start-up s |")
        print("|---|---|---|---|---|")
        for name in (local_zero, "Ray, 2 actors, teacher returning zeros"):
            small, large = fill(name, sets[0]), fill(name, sets[1])
            rate = (sizes[1] - sizes[0]) / max(large - small, 1e-9)
            print(f"| {name} | {small:.1f} | {large:.1f} | {rate:,.0f} | {small - sizes[0] / rate:.1f} |")

    print(f"teacher: {directory.relative_to(ROOT)}; {machine()}")
    print(f"torch {torch.__version__}, ray {ray.__version__}")
    if args.rounds:
        report()
    if args.ceiling:
        ceiling()
    ray.shutdown()


if __name__ == "__main__":
    main()
