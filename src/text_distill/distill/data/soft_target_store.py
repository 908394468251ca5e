"""A content-addressed store of teacher logits: one row per (teacher, exact teacher input text).

The store is a folder of Parquet partitions, one sub-folder per teacher fingerprint, that only ever
grows. A row's key hashes the teacher fingerprint with the text, so a text is scored once per
teacher, whatever run, split or augmentation produced it, and another teacher never reads it.

Filling streams: the texts wanted are read one partition at a time, looked up by key, and only the
misses are scored, one partition of new rows at a time (memory is bounded by the partition size and
the set of keys, never by the number of texts).

A partition damaged on disk (truncated by a full disk, say) never reaches these functions: the store's
dataset moves it aside when it lists the partitions (``datasets/partitions.py``), so its texts are
misses and are scored again.
"""

import hashlib
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)


def store_key(fingerprint: str, text: str) -> str:
    """32 hex digits of SHA-256 over the teacher fingerprint and the exact text the teacher reads."""
    return hashlib.sha256(f"{fingerprint}\x00{text}".encode("utf-8", "surrogatepass")).hexdigest()[:32]


def teacher_folder(fingerprint: str) -> str:
    """The store sub-folder of a teacher's rows."""
    return fingerprint[:16]


def partitions_of(partitions: Mapping[str, Callable], fingerprint: str) -> dict[str, Callable]:
    """The partitions of ``fingerprint``'s folder (Kedro partition ids are ``folder/name``)."""
    prefix = teacher_folder(fingerprint) + "/"
    return {
        pid: load for pid, load in sorted(partitions.items()) if pid.replace("\\", "/").startswith(prefix)
    }


def known_keys(partitions: Mapping[str, Callable], fingerprint: str) -> set[str]:
    """Every key the store holds for ``fingerprint`` (loading the key column only is enough)."""
    keys: set[str] = set()
    for load in partitions_of(partitions, fingerprint).values():
        keys.update(load()["key"])
    return keys


@dataclass
class FillPlan:
    """What filling must score: per wanted partition, which rows are misses (first sightings of a
    key the store lacks), and the key naming its new partition."""

    fingerprint: str
    misses: list[tuple[Callable[[], pd.DataFrame], np.ndarray, str]] = field(default_factory=list)
    wanted_rows: int = 0
    store_hits: int = 0  # rows whose logits the store already held
    repeated: int = 0  # rows repeating a text seen earlier in this fill
    rows_by_group: dict[str, int] = field(default_factory=dict)  # wanted rows per ``group_column``

    @property
    def to_score(self) -> int:
        return int(sum(mask.sum() for _, mask, _ in self.misses))


def plan_fill(
    wanted: Iterable[Callable[[], pd.DataFrame]],
    text_column: str,
    fingerprint: str,
    known: set[str],
    group_column: str | None = None,
) -> FillPlan:
    """Look up every wanted text (one partition loaded at a time), counting rows per
    ``group_column`` value on the way; ``known`` is updated in place."""
    plan = FillPlan(fingerprint)
    added: set[str] = set()
    for load in wanted:
        frame = load()
        if group_column is not None:
            for group, count in frame[group_column].value_counts(sort=False).items():
                plan.rows_by_group[group] = plan.rows_by_group.get(group, 0) + int(count)
        keys = [store_key(fingerprint, text) for text in frame[text_column]]
        plan.wanted_rows += len(keys)
        miss = np.zeros(len(keys), dtype=bool)
        for row, key in enumerate(keys):
            if key not in known:
                known.add(key)
                added.add(key)
                miss[row] = True
            elif key in added:
                plan.repeated += 1
            else:
                plan.store_hits += 1
        if miss.any():
            plan.misses.append((load, miss, keys[int(np.argmax(miss))]))
    return plan


def score_partition(
    texts: Sequence[str],
    fingerprint: str,
    score: Callable[[list[str]], tuple[np.ndarray, np.ndarray | None]],
) -> pd.DataFrame:
    """New store rows for ``texts``: ``score`` returns the target logits ``(n, labels)`` and, with
    several teachers, each member's ``(n, teachers, labels)``."""
    texts = list(texts)
    logits, member_logits = score(texts)
    return store_rows([store_key(fingerprint, text) for text in texts], fingerprint, logits, member_logits)


def store_rows(
    keys: Sequence[str], fingerprint: str, logits: np.ndarray, member_logits: np.ndarray | None
) -> pd.DataFrame:
    """A store partition's rows: ``logits`` ``(n, labels)`` and, with several teachers, each
    member's, ``(n, teachers, labels)`` or already flat ``(n, teachers * labels)``. Every scoring
    engine writes through here, so their partitions have the same columns and types."""
    frame = pd.DataFrame(
        {"key": list(keys), "teacher_fingerprint": fingerprint, "logits": list(logits.astype(np.float32))}
    )
    if member_logits is not None:
        frame["member_logits"] = list(member_logits.reshape(len(keys), -1).astype(np.float32))
    return frame


def lazy_partitions(
    plan: FillPlan,
    text_column: str,
    score: Callable[[list[str]], tuple[np.ndarray, np.ndarray | None]],
) -> dict[str, Callable[[], pd.DataFrame]]:
    """One new partition per wanted partition with misses, scored only when saved (Kedro's
    PartitionedDataset calls each in turn), so one partition of texts is in memory at a time."""
    clock = {"texts": 0, "seconds": 0.0}

    def partition(load: Callable[[], pd.DataFrame], miss: np.ndarray) -> Callable[[], pd.DataFrame]:
        def build() -> pd.DataFrame:
            started = time.perf_counter()
            texts = load()[text_column].to_numpy()[miss]
            frame = score_partition(texts, plan.fingerprint, score)
            clock["texts"] += len(texts)
            clock["seconds"] += time.perf_counter() - started
            logger.info(
                "Soft-target store: %d of %d new texts scored in %.0f s (%.1f texts/s)",
                clock["texts"],
                plan.to_score,
                clock["seconds"],
                clock["texts"] / max(clock["seconds"], 1e-9),
            )
            return frame

        return build

    folder = teacher_folder(plan.fingerprint)
    # a new partition is named by its first key: unique in the store, and stable for the same texts
    return {f"{folder}/{first_key}": partition(load, miss) for load, miss, first_key in plan.misses}


def lookup(
    partitions: Mapping[str, Callable], fingerprint: str, keys: Iterable[str], columns: Sequence[str]
) -> pd.DataFrame:
    """The store rows of ``keys`` (indexed by key), reading ``fingerprint``'s partitions one at a time."""
    wanted = set(keys)
    found = []
    for load in partitions_of(partitions, fingerprint).values():
        frame = load()
        found.append(frame.loc[frame["key"].isin(wanted), ["key", *columns]])
    if not found:
        return pd.DataFrame(columns=["key", *columns]).set_index("key")
    return pd.concat(found, ignore_index=True).drop_duplicates("key").set_index("key")
