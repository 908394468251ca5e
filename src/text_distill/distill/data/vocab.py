"""Token vocabularies and the pretrained-vector matrix for them."""

from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

PAD, UNK = "<pad>", "<unk>"


def build_vocabulary(
    token_lists: Iterable[Sequence[str]], min_freq: int, max_size: int | None = None
) -> list[str]:
    """``[<pad>, <unk>, tokens...]`` by descending frequency (ties by token), ``count >= min_freq``."""
    counts = Counter(token for tokens in token_lists for token in tokens)
    ranked = sorted((item for item in counts.items() if item[1] >= min_freq), key=lambda i: (-i[1], i[0]))
    if max_size is not None:
        ranked = ranked[: max(0, max_size - 2)]
    return [PAD, UNK] + [token for token, _ in ranked]


def vector_matrix(
    vocabulary: Sequence[str], lookup: dict[str, np.ndarray] | object, dim: int, seed: int
) -> tuple[np.ndarray, int]:
    """Rows for the vocabulary from ``lookup`` (any mapping with ``in`` and ``[]``, e.g. gensim
    ``KeyedVectors``); tokens without a vector get small random rows, ``<pad>`` gets zeros.

    Returns the float32 matrix and how many tokens had a pretrained vector.
    """
    rng = np.random.default_rng(seed)
    matrix = rng.normal(0.0, 0.1, size=(len(vocabulary), dim)).astype(np.float32)
    matrix[0] = 0.0
    found = 0
    for row, token in enumerate(vocabulary[2:], start=2):
        if token in lookup:
            matrix[row] = np.asarray(lookup[token], dtype=np.float32)
            found += 1
    return matrix, found
