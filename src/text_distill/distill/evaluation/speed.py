"""Speed: throughput and latency, measured in one process with the same threads, models interleaved
so that machine drift hits all of them alike."""

import time
from collections.abc import Callable, Sequence

import numpy as np


def items_per_second(run: Callable[[], int], min_seconds: float) -> float:
    """Repeat ``run()`` (returns how many items it processed) until ``min_seconds`` have passed."""
    done, start = 0, time.perf_counter()
    while True:
        done += run()
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return done / elapsed


def texts_per_second(
    predict: Callable[[Sequence[str]], object], texts: Sequence[str], min_seconds: float
) -> float:
    """Repeat ``predict(texts)`` until ``min_seconds`` have passed; texts per second."""

    def run() -> int:
        predict(texts)
        return len(texts)

    return items_per_second(run, min_seconds)


def interleaved_throughput(
    workloads: dict[str, Callable[[], int]], rounds: int, min_seconds: float
) -> dict[str, float]:
    """Median items/s per workload over ``rounds``, workloads taking turns."""
    for run in workloads.values():  # warm-up: lazy initialisation (jieba, allocator) is not speed
        run()
    samples: dict[str, list[float]] = {name: [] for name in workloads}
    for _ in range(rounds):
        for name, run in workloads.items():
            samples[name].append(items_per_second(run, min_seconds))
    return {name: float(np.median(values)) for name, values in samples.items()}


def rotated(names: Sequence[str], turn: int) -> list[str]:
    """``names`` starting at ``turn`` (mod their number): who goes first rotates from turn to turn."""
    shift = turn % len(names)
    return [*names[shift:], *names[:shift]]


def rotating_rounds(
    measure: Callable[[str, int], float], names: Sequence[str], rounds: int
) -> dict[str, list[float]]:
    """``measure(name, round)`` (seconds) for every name in every round, in rotated order, so that
    machine drift and cache effects hit them alike and none always follows the same one."""
    seconds: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(rounds):
        for name in rotated(names, round_):
            seconds[name].append(measure(name, round_))
    return seconds


def interleaved_latency(
    predictors: dict[str, Callable[[Sequence[str]], object]], texts: Sequence[str]
) -> dict[str, dict[str, float]]:
    """Milliseconds per single text (batch 1), p50 and p95 over ``texts``, models taking turns on
    each text; who goes first rotates, so no model always follows the same one (whose memory
    traffic would evict its caches)."""
    for predict in predictors.values():
        predict(texts[:1])
    names = list(predictors)
    samples: dict[str, list[float]] = {name: [] for name in predictors}
    for i, text in enumerate(texts):
        for name in rotated(names, i):
            predict = predictors[name]
            start = time.perf_counter()
            predict([text])
            samples[name].append((time.perf_counter() - start) * 1000.0)
    return {
        name: {
            "latency_p50_ms": float(np.percentile(values, 50)),
            "latency_p95_ms": float(np.percentile(values, 95)),
        }
        for name, values in samples.items()
    }
