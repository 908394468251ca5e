"""Augment: the transfer set, i.e. every text the teacher labels. The labelled examples (all splits:
dev and test logits feed the evaluation), Tang et al.'s augmented copies of the train split, and an
optional unlabelled corpus. Written as Parquet partitions generated one at a time, so a transfer set
of millions of texts never sits in memory whole.

Only the train split is augmented and only train-split words are drawn from; unlabelled texts equal
to any labelled example are dropped, so nothing from dev or test reaches the student.
"""

import logging
from collections.abc import Callable
from typing import Any

import pandas as pd

from text_distill.distill.augment import AugmentConfig, PosVocabulary, augment_texts
from text_distill.distill.teacher import PretrainedEncoder
from text_distill.distill.text import normalise_text, segment_words, text_hash

logger = logging.getLogger(__name__)

TRANSFER_COLUMNS = ["source", "origin_id", "teacher_text", "words"]
"""``source``: labelled | augmented | unlabelled; ``origin_id``: the example a row comes from (-1 for
unlabelled texts); ``teacher_text``: exactly what the teacher reads; ``words``: what a word-level
student reads (null for labelled rows, whose words are in ``segmented_examples``)."""


def transfer_frame(
    source: str, origin_ids: list[int], texts: list[str], words: list[list[str]] | None
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source": source,
            "origin_id": pd.array(origin_ids, dtype="int64"),
            "teacher_text": texts,
            "words": words if words is not None else [None] * len(texts),
        }
    )[TRANSFER_COLUMNS]


def mask_token(teacher_base: PretrainedEncoder) -> str:
    """How a masked word is written for the teacher: its tokenizer's mask token, else its unknown one."""
    tokenizer = teacher_base.tokenizer
    token = tokenizer.mask_token or tokenizer.unk_token
    if not token:
        raise ValueError("the teacher tokenizer has neither a mask nor an unknown token to render masks")
    return token


def read_unlabelled(
    corpus: str, labelled_hashes: dict[str, str], params: dict[str, Any]
) -> tuple[list[str], dict[str, int]]:
    """Texts of ``corpus`` (one per line; ``format: labelled`` lines are ``label<TAB>text`` and the
    label is dropped), normalised, deduplicated, without texts equal to a labelled example, capped at
    ``max_rows``; and the count of every line by outcome."""
    limit = int(params["max_rows"])
    counts = dict.fromkeys(
        [
            "lines",
            "undecodable",
            "malformed",
            "empty",
            "duplicates",
            "equal_to_train",
            "equal_to_dev_or_test",
            "over_max_rows",
            "kept",
        ],
        0,
    )
    if limit <= 0:
        return [], counts
    texts, seen = [], set()
    for line in corpus.splitlines():
        counts["lines"] += 1
        if any("\udc80" <= char <= "\udcff" for char in line):  # surrogateescape'd bytes
            counts["undecodable"] += 1
            continue
        if params["format"] == "labelled":
            if "\t" not in line:
                counts["malformed"] += 1
                continue
            line = line.split("\t", 1)[1]
        text = normalise_text(line)
        digest = text_hash(text)
        if not text:
            counts["empty"] += 1
        elif digest in seen:
            counts["duplicates"] += 1
        elif digest in labelled_hashes:
            split = labelled_hashes[digest]
            counts["equal_to_train" if split == "train" else "equal_to_dev_or_test"] += 1
        elif len(texts) >= limit:
            counts["over_max_rows"] += 1
        else:
            seen.add(digest)
            texts.append(text)
    counts["kept"] = len(texts)
    logger.info("Unlabelled corpus: %s", counts)
    return texts, counts


def build_transfer_set(
    examples: pd.DataFrame,
    segmented: pd.DataFrame,
    unlabelled_corpus: str,
    teacher_base: PretrainedEncoder,
    params: dict[str, Any],
) -> tuple[dict[str, Callable[[], pd.DataFrame]], dict[str, Any]]:
    """The transfer set as lazily built partitions of at most ``chunk_rows`` rows, and a report."""
    config = AugmentConfig(
        n_iter=int(params["n_iter"]),
        p_mask=float(params["p_mask"]),
        p_pos=float(params["p_pos"]),
        p_ng=float(params["p_ng"]),
        ngram_min=int(params["ngram_range"][0]),
        ngram_max=int(params["ngram_range"][1]),
        seed=int(params["seed"]),
    )
    chunk_rows = int(params["chunk_rows"])
    mask = mask_token(teacher_base)
    train = examples[examples["split"] == "train"]
    partitions: dict[str, Callable[[], pd.DataFrame]] = {}

    def add(source: str, build: Callable[[], pd.DataFrame]) -> None:
        partitions[f"{len(partitions):05d}-{source}"] = build

    for start in range(0, len(examples), chunk_rows):
        part = examples.iloc[start : start + chunk_rows]
        add(
            "labelled",
            lambda part=part: transfer_frame(
                "labelled", part["example_id"].tolist(), part["text"].tolist(), None
            ),
        )

    if config.n_iter > 0:
        train_words = segmented.loc[segmented["split"] == "train", "words"]
        vocabulary = PosVocabulary.from_words(train_words)
        logger.info(
            "POS vocabulary: %d tags from %d train examples", len(vocabulary.tags()), len(train_words)
        )
        originals_per_chunk = max(1, chunk_rows // config.n_iter)

        held_out = set(examples.loc[examples["split"] != "train", "text_hash"])

        def augmented(part: pd.DataFrame) -> pd.DataFrame:
            ids = part["example_id"].tolist()
            rows = [
                (ids[position], copy.teacher_text(mask), copy.student_words())
                for position, copy in augment_texts(part["text"].tolist(), ids, vocabulary, config)
            ]
            # a copy that happens to be a dev or test text would leak it into training
            rows = [row for row in rows if text_hash(normalise_text(row[1])) not in held_out]
            return transfer_frame(
                "augmented", [row[0] for row in rows], [row[1] for row in rows], [row[2] for row in rows]
            )

        for start in range(0, len(train), originals_per_chunk):
            add("augmented", lambda part=train.iloc[start : start + originals_per_chunk]: augmented(part))

    labelled_hashes = dict(zip(examples["text_hash"], examples["split"], strict=True))
    unlabelled, unlabelled_counts = read_unlabelled(unlabelled_corpus, labelled_hashes, params["unlabelled"])
    for start in range(0, len(unlabelled), chunk_rows):
        texts = unlabelled[start : start + chunk_rows]
        add(
            "unlabelled",
            lambda texts=texts: transfer_frame(
                "unlabelled", [-1] * len(texts), texts, [segment_words(t) for t in texts]
            ),
        )

    report = {
        "labelled_rows": len(examples),
        "augmented_from_train_rows": len(train) if config.n_iter > 0 else 0,
        "augment": {**config.__dict__},
        "teacher_mask_token": mask,
        "max_augmented_rows": len(train) * config.n_iter,
        "unlabelled": unlabelled_counts,
        "partitions": len(partitions),
    }
    logger.info("Transfer set: %s", report)
    return partitions, report
