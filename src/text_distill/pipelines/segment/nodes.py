"""Segment: words (``segment.segmenter``: jieba or rjieba) and characters per example, vocabularies of
the texts a student trains on (train and unlabelled: never dev or test), their word vectors."""

import logging
from typing import Any

import numpy as np
import pandas as pd
from gensim.models import KeyedVectors
from tqdm.auto import tqdm

from text_distill.distill.data.splits import UNLABELLED
from text_distill.distill.data.text import segment_chars, word_segmenter
from text_distill.distill.data.vocab import build_vocabulary, vector_matrix

logger = logging.getLogger(__name__)


def segment_examples(examples: pd.DataFrame, params: dict[str, Any]) -> tuple[pd.DataFrame, dict[str, str]]:
    """One row per example with its ``words`` and its ``chars``, and which word segmenter made them
    (the students carry it, so serving segments alike)."""
    segment = word_segmenter(params["segmenter"])
    texts = examples["text"].tolist()
    words = [segment(text) for text in tqdm(texts, desc=params["segmenter"], mininterval=5)]
    segmented = pd.DataFrame(
        {
            "example_id": examples["example_id"],
            "split": examples["split"],
            "words": words,
            "chars": [segment_chars(text) for text in texts],
        }
    )
    return segmented, {"segmenter": params["segmenter"]}


def _train_vocabulary(segmented: pd.DataFrame, column: str, params: dict[str, Any]) -> list[str]:
    # Train and unlabelled texts only, so dev/test tokens never leak into the student.
    train = segmented.loc[segmented["split"].isin(["train", UNLABELLED]), column]
    vocabulary = build_vocabulary(train, int(params["min_freq"]), params.get("max_size"))
    logger.info("%s vocabulary: %d entries (%s)", column, len(vocabulary), params)
    return vocabulary


def build_word_vocabulary(segmented: pd.DataFrame, params: dict[str, Any]) -> list[str]:
    """Words of the train and unlabelled texts seen at least ``min_freq`` times."""
    return _train_vocabulary(segmented, "words", params)


def build_char_vocabulary(segmented: pd.DataFrame, params: dict[str, Any]) -> list[str]:
    """The ``max_size`` most frequent characters of the train and unlabelled texts."""
    return _train_vocabulary(segmented, "chars", params)


def build_embeddings(
    vocabulary: list[str], vectors: KeyedVectors, params: dict[str, Any]
) -> tuple[np.ndarray, dict[str, Any]]:
    """The pretrained-vector matrix for a vocabulary, and its coverage."""
    matrix, found = vector_matrix(vocabulary, vectors, vectors.vector_size, int(params["seed"]))
    coverage = {
        "vocabulary_size": len(vocabulary) - 2,
        "with_vector": found,
        "coverage": round(found / max(1, len(vocabulary) - 2), 4),
        "dim": int(vectors.vector_size),
    }
    logger.info("Vector coverage: %s", coverage)
    return matrix, coverage
