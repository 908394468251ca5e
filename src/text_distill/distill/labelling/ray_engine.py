"""Teacher labelling on Ray Data: the store's misses scored by a pool of actors, each holding the
teacher members once.

One Ray Data pipeline covers every partition with misses: a task reads a transfer-set partition
and keeps its misses (so every worker must reach the transfer set's path), a fixed pool of actors
scores them (``map_batches``; the members travel once through the object store and each actor
loads them once), and the driver regroups the scored rows into the partitions the local engine
writes, same ids, rows and columns, handing each to the dataset as it is saved. The pipeline
streams: Ray Data's backpressure bounds what is in flight, and the driver holds the partitions
scored ahead of the one being saved, not the whole fill.

Ray starts when the first partition is saved, so a fill with nothing to score never starts it.
"""

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch

from text_distill.distill.data.soft_target_store import FillPlan, store_key, store_rows, teacher_folder
from text_distill.distill.labelling.local_engine import Member, TeacherScoring, teacher_scorer
from text_distill.distill.models.teacher_precision import resolve_precision
from text_distill.distill.runtimes.ray_runtime import connect

logger = logging.getLogger(__name__)

READER_CPUS = 0.25  # reading a partition is light; a whole CPU each would starve the actors


@dataclass(frozen=True)
class RayLabelling:
    """The actor pool: ``actors`` actors of ``actor_cpus`` CPUs and ``actor_gpus`` GPUs each (a GPU
    makes the actor score on ``cuda``), ``actor_threads`` torch threads each (null: the whole CPUs
    it reserves, at least one), ``batch_texts`` texts per actor call (the teacher batches them by
    ``batch_size``, sorted by length)."""

    actors: int
    actor_cpus: float
    actor_gpus: float
    actor_threads: int | None
    batch_texts: int

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> "RayLabelling":
        return cls(
            actors=int(params["ray_actors"]),
            actor_cpus=float(params["actor_cpus"]),
            actor_gpus=float(params["actor_gpus"]),
            actor_threads=params["actor_threads"],
            batch_texts=int(params["ray_batch_texts"]),
        )

    @property
    def device(self) -> str:
        return "cuda" if self.actor_gpus > 0 else "cpu"

    @property
    def threads(self) -> int:
        return int(self.actor_threads or max(1, int(self.actor_cpus)))

    def report(self, ray_params: dict[str, Any]) -> dict[str, Any]:
        return {
            "ray_address": ray_params["address"] or "local",
            "ray_actors": self.actors,
            "actor_cpus": self.actor_cpus,
            "actor_gpus": self.actor_gpus,
            "actor_threads": self.threads,
            "actor_device": self.device,
        }


class TeacherActor:
    """A Ray Data actor: takes the members once (an object reference, wrapped in a list so Ray
    hands over the reference, not a copy per argument), then scores every batch it is given."""

    def __init__(
        self,
        members_ref: list[Any],
        scoring: dict[str, Any],
        fingerprint: str,
        device: str,
        threads: int,
    ) -> None:
        import ray

        torch.set_num_threads(threads)
        if scoring["precision"] == "bf16":
            resolve_precision("bf16", device)  # refuses a worker without bf16 support
        members: list[Member] = ray.get(members_ref[0])
        for member in members:
            if isinstance(member, torch.nn.Module):  # the n-gram member runs in scikit-learn
                member.to(device)
        self.score = teacher_scorer(members, **scoring)
        self.fingerprint = fingerprint

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        texts = batch["text"].tolist()
        logits, member_logits = self.score(texts)
        scored = {
            "partition": batch["partition"],
            "row": batch["row"],
            "key": np.array([store_key(self.fingerprint, text) for text in texts], dtype=object),
            "logits": logits,
        }
        if member_logits is not None:
            scored["member_logits"] = member_logits.reshape(len(texts), -1)
        return scored


def miss_reader(
    misses: list[tuple[Callable[[], pd.DataFrame], np.ndarray, str]], text_column: str
) -> Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]]:
    """Partition indices -> their miss texts, each with its partition and its row among them."""

    def read(batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        parts, rows, texts = [], [], []
        for part in batch["partition"].tolist():
            load, miss, _ = misses[part]
            chosen = load()[text_column].to_numpy()[miss]
            parts.append(np.full(len(chosen), part))
            rows.append(np.arange(len(chosen)))
            texts.append(chosen.astype(object))
        return {
            "partition": np.concatenate(parts),
            "row": np.concatenate(rows),
            "text": np.concatenate(texts),
        }

    return read


class ScoredStream:
    """The driver's side: starts the pipeline on the first partition asked for, then regroups the
    scored rows by partition and returns each one once all its rows are in."""

    def __init__(
        self,
        plan: FillPlan,
        text_column: str,
        scoring: TeacherScoring,
        pool: RayLabelling,
        ray_params: dict[str, Any],
    ) -> None:
        self.plan, self.text_column, self.scoring, self.pool = plan, text_column, scoring, pool
        self.ray_params = ray_params
        self.expected = [int(mask.sum()) for _, mask, _ in plan.misses]
        self.chunks: dict[int, list[dict[str, np.ndarray]]] = defaultdict(list)
        self.counts: dict[int, int] = defaultdict(int)
        self.ready: dict[int, pd.DataFrame] = {}
        self.delivered = 0
        self.batches: Iterator[dict[str, np.ndarray]] | None = None
        self.started = 0.0

    def start(self) -> Iterator[dict[str, np.ndarray]]:
        import ray

        connect(self.ray_params)
        cpus, reserved = ray.cluster_resources().get("CPU", 0), self.pool.actors * self.pool.actor_cpus
        if not self.ray_params["address"] and reserved >= cpus:
            # a local Ray cannot grow: with every CPU reserved by actors the readers never run
            raise ValueError(
                f"soft_targets.ray_actors x actor_cpus reserves {reserved:g} of the local Ray's {cpus:g} "
                "CPUs: leave some for the readers (ray-project/ray#44687)"
            )
        ray.data.DataContext.get_current().enable_progress_bars = False
        # CPU copies travel: a worker without the driver's GPU must still unpickle them
        members = [m.to("cpu") if isinstance(m, torch.nn.Module) else m for m in self.scoring.members]
        members_ref = ray.put(members)
        # the order PartitionedDataset saves in (by partition id), so the next one asked for comes first
        order = sorted(range(len(self.plan.misses)), key=lambda i: self.plan.misses[i][2])
        scoring = {
            "weights": self.scoring.weights,
            "batch_size": self.scoring.batch_size,
            "precision": self.scoring.precision,
        }
        dataset = (
            ray.data.from_items([{"partition": i} for i in order], override_num_blocks=len(order))
            .map_batches(
                miss_reader(self.plan.misses, self.text_column),
                batch_size=1,
                batch_format="numpy",
                num_cpus=READER_CPUS,
            )
            .map_batches(
                TeacherActor,
                fn_constructor_args=(
                    [members_ref],
                    scoring,
                    self.plan.fingerprint,
                    self.pool.device,
                    self.pool.threads,
                ),
                batch_size=self.pool.batch_texts,
                batch_format="numpy",
                compute=ray.data.ActorPoolStrategy(size=self.pool.actors),
                num_cpus=self.pool.actor_cpus,
                num_gpus=self.pool.actor_gpus,
            )
        )
        logger.info(
            "Soft-target store on Ray: %d texts in %d partitions, %d actors (%g CPUs, %g GPUs each)",
            self.plan.to_score,
            len(order),
            self.pool.actors,
            self.pool.actor_cpus,
            self.pool.actor_gpus,
        )
        self.started = time.perf_counter()
        return iter(dataset.iter_batches(batch_size=None, batch_format="numpy"))

    def partition(self, index: int) -> pd.DataFrame:
        if self.batches is None:
            self.batches = self.start()
        while index not in self.ready:
            batch = next(self.batches, None)
            if batch is None:
                raise RuntimeError(f"Ray labelling ended before partition {index} was scored")
            self.take(batch)
        frame = self.ready.pop(index)
        self.delivered += len(frame)
        seconds = time.perf_counter() - self.started
        logger.info(
            "Soft-target store: %d of %d new texts scored on Ray in %.0f s (%.1f texts/s)",
            self.delivered,
            self.plan.to_score,
            seconds,
            self.delivered / max(seconds, 1e-9),
        )
        if self.delivered == self.plan.to_score:
            for _ in self.batches:  # lets the pipeline finish and release its actors
                raise RuntimeError("Ray labelling returned rows beyond the plan")
        return frame

    def take(self, batch: dict[str, np.ndarray]) -> None:
        for part in np.unique(batch["partition"]).tolist():
            rows = batch["partition"] == part
            self.chunks[part].append({column: values[rows] for column, values in batch.items()})
            self.counts[part] += int(rows.sum())
            if self.counts[part] == self.expected[part]:
                self.ready[part] = self.assemble(self.chunks.pop(part))

    def assemble(self, chunks: list[dict[str, np.ndarray]]) -> pd.DataFrame:
        """A partition's rows in the local engine's order (its misses in transfer-set order)."""
        joined = {column: np.concatenate([chunk[column] for chunk in chunks]) for column in chunks[0]}
        order = np.argsort(joined["row"], kind="stable")
        return store_rows(
            joined["key"][order].tolist(),
            self.plan.fingerprint,
            joined["logits"][order],
            joined["member_logits"][order] if "member_logits" in joined else None,
        )


def ray_partitions(
    plan: FillPlan,
    text_column: str,
    scoring: TeacherScoring,
    params: dict[str, Any],
    ray_params: dict[str, Any],
) -> tuple[dict[str, Callable[[], pd.DataFrame]], dict[str, Any]]:
    """The new store partitions, scored on Ray when saved (``params``: the soft_targets
    parameters, read by ``RayLabelling.from_params``; ``ray_params``: where Ray runs), and the
    actor pool for the report."""
    pool = RayLabelling.from_params(params)
    stream = ScoredStream(plan, text_column, scoring, pool, ray_params)
    folder = teacher_folder(plan.fingerprint)
    partitions = {
        f"{folder}/{first_key}": (lambda index=index: stream.partition(index))
        for index, (_, _, first_key) in enumerate(plan.misses)
    }
    return partitions, pool.report(ray_params)
