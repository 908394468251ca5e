"""End-to-end throughput: raw text to label, tokenisation included, same process and threads."""

import time
from collections.abc import Callable, Sequence

import numpy as np


def texts_per_second(
    predict: Callable[[Sequence[str]], object], texts: Sequence[str], min_seconds: float
) -> float:
    """Repeat ``predict(texts)`` until ``min_seconds`` have passed; texts per second."""
    done, start = 0, time.perf_counter()
    while True:
        predict(texts)
        done += len(texts)
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return done / elapsed


def interleaved_throughput(
    predictors: dict[str, Callable[[Sequence[str]], object]],
    texts: Sequence[str],
    rounds: int,
    min_seconds: float,
) -> dict[str, float]:
    """Median texts/s per model over ``rounds``, models taking turns so machine drift hits all alike."""
    for predict in predictors.values():  # warm-up: lazy initialisation (jieba, allocator) is not speed
        predict(texts[:8])
    samples: dict[str, list[float]] = {name: [] for name in predictors}
    for _ in range(rounds):
        for name, predict in predictors.items():
            samples[name].append(texts_per_second(predict, texts, min_seconds))
    return {name: float(np.median(values)) for name, values in samples.items()}
