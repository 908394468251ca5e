"""The transfer set, every text the teacher labels, as lazily built partitions: the labelled examples,
augmented copies of the train split, the texts of an unlabelled corpus and of the opt-in packaged
news. A partition is built only when it is saved, so a transfer set of millions of texts never sits
in memory whole.

Only the train split is augmented and only words of the train and unlabelled texts are drawn from;
an augmented copy or an unlabelled text equal to a dev or test example is dropped, so nothing from
them reaches the student.
"""

import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pandas as pd

from text_distill.distill.data.augment import AugmentConfig, PosVocabulary, augment_texts
from text_distill.distill.data.splits import UNLABELLED
from text_distill.distill.data.text import normalise_text, segment_words, text_hash

logger = logging.getLogger(__name__)

TRANSFER_COLUMNS = ["source", "origin_id", "teacher_text", "words"]
"""``source``: labelled | augmented | unlabelled; ``origin_id``: the example a row comes from (-1 for
unlabelled texts); ``teacher_text``: exactly what the teacher reads; ``words``: what a word-level
student reads (null for labelled rows, whose words are in ``segmented_examples``)."""
# why a decoded text is dropped (``_rejection``), then how many are kept
KEPT_OR_REJECTED = ["empty", "duplicates", "equal_to_train", "equal_to_dev_or_test", "over_max_rows", "kept"]
UNLABELLED_OUTCOMES = ["lines", "undecodable", "malformed", *KEPT_OR_REJECTED]
NEWS_OUTCOMES = ["texts", *KEPT_OR_REJECTED]
"""What became of each text a news source offered (its reader has already normalised, length-filtered
and deduplicated them: a duplicate here equals a text kept from an earlier source)."""
Builder = Callable[[], pd.DataFrame]
HELD_OUT = ("dev", "test")  # splits no transfer text may equal (train and unlabelled texts are the student's)


def transfer_frame(
    source: str, origin_ids: list[int], texts: list[str], words: list[list[str]] | None
) -> pd.DataFrame:
    """Transfer-set rows of one ``source``, in ``TRANSFER_COLUMNS``."""
    return pd.DataFrame(
        {
            "source": source,
            "origin_id": pd.array(origin_ids, dtype="int64"),
            "teacher_text": texts,
            "words": words if words is not None else [None] * len(texts),
        }
    )[TRANSFER_COLUMNS]


def _unlabelled_text(line: str, layout: str) -> tuple[str, str | None]:
    """The normalised text of one corpus line, or why the line has none."""
    if any("\udc80" <= char <= "\udcff" for char in line):  # surrogateescape'd bytes
        return "", "undecodable"
    if layout == "labelled":
        if "\t" not in line:
            return "", "malformed"
        line = line.split("\t", 1)[1]
    return normalise_text(line), None


def _rejection(
    text: str, digest: str, seen: set[str], labelled_hashes: dict[str, str], full: bool
) -> str | None:
    """Why a decoded unlabelled text is not kept (``None``: it is)."""
    if not text:
        return "empty"
    if digest in seen:
        return "duplicates"
    if digest in labelled_hashes:
        return "equal_to_dev_or_test" if labelled_hashes[digest] in HELD_OUT else "equal_to_train"
    return "over_max_rows" if full else None


def read_unlabelled(
    corpus: str, labelled_hashes: dict[str, str], params: dict[str, Any]
) -> tuple[list[str], dict[str, int]]:
    """Texts of ``corpus`` (one per line; ``format: labelled`` lines are ``label<TAB>text`` and the
    label is dropped), normalised, deduplicated, without texts equal to a labelled example, capped at
    ``max_rows``; and the count of every line by outcome."""
    limit = int(params["max_rows"])
    counts = dict.fromkeys(UNLABELLED_OUTCOMES, 0)
    if limit <= 0:
        return [], counts
    lines = (_unlabelled_text(line, params["format"]) for line in corpus.splitlines())
    texts = _keep(lines, set(), labelled_hashes, limit, counts, "lines")
    logger.info("Unlabelled corpus: %s", counts)
    return texts, counts


def _keep(
    candidates: Iterable[tuple[str, str | None]],
    seen: set[str],
    labelled_hashes: dict[str, str],
    limit: int,
    counts: dict[str, int],
    counted_as: str,
) -> list[str]:
    """The candidate texts (each with why it has none, or ``None``) that are new to ``seen`` and to
    the labelled examples, up to ``limit``; every candidate counted in ``counts`` (``counted_as``,
    then its outcome). ``seen`` grows by the kept texts."""
    kept = []
    for text, problem in candidates:
        counts[counted_as] += 1
        if problem is None:
            digest = text_hash(text)
            problem = _rejection(text, digest, seen, labelled_hashes, len(kept) >= limit)
        if problem is not None:
            counts[problem] += 1
            continue
        seen.add(digest)
        kept.append(text)
    counts["kept"] = len(kept)
    return kept


def read_news(
    sources: dict[str, Callable[[], list[str]]],
    caps: dict[str, int],
    labelled_hashes: dict[str, str],
    kept_before: list[str],
) -> tuple[dict[str, list[str]], dict[str, dict[str, int]]]:
    """The texts of each news source (by name, in name order) up to its cap in ``caps`` (0 or absent:
    the source is not read at all), under ``read_unlabelled``'s rules: a text equal to a labelled
    example, to a text of ``kept_before`` or of an earlier source is dropped and counted; and each
    source's counts by outcome."""
    unwired = sorted(name for name, cap in caps.items() if int(cap) > 0 and name not in sources)
    if unwired:
        raise ValueError(
            f"augment.unlabelled.news names {unwired}, which are not news sources: {sorted(sources)}"
        )
    seen = {text_hash(text) for text in kept_before}
    texts, counts = {}, {}
    for name in sorted(sources):
        limit, outcome = int(caps.get(name, 0)), dict.fromkeys(NEWS_OUTCOMES, 0)
        # the packaged readers normalise; a reader of one's own may not
        candidates = ((normalise_text(text), None) for text in (sources[name]() if limit > 0 else []))
        texts[name], counts[name] = _keep(candidates, seen, labelled_hashes, limit, outcome, "texts"), outcome
        if limit > 0:
            logger.info("News source %s: %s", name, outcome)
    return texts, counts


def held_out(labelled_hashes: dict[str, str]) -> set[str]:
    """The hashes of the texts no transfer text may equal: the dev and test texts of ``labelled_hashes``
    (text hash -> split)."""
    return {digest for digest, split in labelled_hashes.items() if split in HELD_OUT}


def labelled_partitions(examples: pd.DataFrame, chunk_rows: int) -> Iterator[tuple[str, Builder]]:
    """The examples as they are given, every split of them (the train and dev logits feed the
    students and their selection, the unlabelled split's are the distilled student's targets for
    texts without a label; evaluation labels the test rows the same way)."""
    for start in range(0, len(examples), chunk_rows):
        part = examples.iloc[start : start + chunk_rows]
        yield (
            "labelled",
            lambda part=part: transfer_frame(
                "labelled", part["example_id"].tolist(), part["text"].tolist(), None
            ),
        )


def augmented_partitions(
    examples: pd.DataFrame,
    segmented: pd.DataFrame,
    config: AugmentConfig,
    mask: str,
    chunk_rows: int,
    held_out_hashes: set[str],
) -> Iterator[tuple[str, Builder]]:
    """Tang et al.'s ``config.n_iter`` copies of each train example, drawing words from the train
    and unlabelled texts only (as the students' vocabularies do: a label budget's copies draw from
    the same words in a distill run and a learning curve), about ``chunk_rows`` copies a partition,
    none equal to a text of ``held_out_hashes`` (the dev and test texts); none when ``n_iter`` is 0."""
    if config.n_iter <= 0:
        return
    train = examples[examples["split"] == "train"]
    train_words = segmented.loc[segmented["split"].isin(["train", UNLABELLED]), "words"]
    vocabulary = PosVocabulary.from_words(train_words)
    logger.info(
        "POS vocabulary: %d tags from %d train and unlabelled texts", len(vocabulary.tags()), len(train_words)
    )

    def augmented(part: pd.DataFrame) -> pd.DataFrame:
        ids = part["example_id"].tolist()
        rows = [
            (ids[position], copy.teacher_text(mask), copy.student_words())
            for position, copy in augment_texts(part["text"].tolist(), ids, vocabulary, config)
        ]
        # a copy that happens to be a dev or test text would leak it into training
        rows = [row for row in rows if text_hash(normalise_text(row[1])) not in held_out_hashes]
        return transfer_frame(
            "augmented", [row[0] for row in rows], [row[1] for row in rows], [row[2] for row in rows]
        )

    originals_per_chunk = max(1, chunk_rows // config.n_iter)
    for start in range(0, len(train), originals_per_chunk):
        yield "augmented", lambda part=train.iloc[start : start + originals_per_chunk]: augmented(part)


def unlabelled_partitions(
    texts: list[str], chunk_rows: int, name: str = "unlabelled"
) -> Iterator[tuple[str, Builder]]:
    """The unlabelled texts, segmented into words for a word-level student, in partitions named after
    where they come from (``name``); their ``source`` is ``unlabelled`` whatever the name, as the
    student reads every source but ``augmented`` as written text."""
    for start in range(0, len(texts), chunk_rows):
        part = texts[start : start + chunk_rows]
        yield (
            name,
            lambda part=part: transfer_frame(
                "unlabelled", [-1] * len(part), part, [segment_words(t) for t in part]
            ),
        )


def named_partitions(*sources: Iterator[tuple[str, Builder]]) -> dict[str, Builder]:
    """The partitions in order, each named ``<number>-<source>`` (sorted names keep the order)."""
    built = [part for source in sources for part in source]
    return {f"{number:05d}-{source}": build for number, (source, build) in enumerate(built)}
