"""Transfer-set augmentation of Tang et al. 2019, at the word level after jieba.

Each word of an example is, with probability ``p_mask``, replaced by a mask; otherwise with
probability ``p_pos`` replaced by another word of the same part of speech, drawn from the unigram
distribution within that tag of the texts the vocabulary is built from (train and unlabelled);
then, with probability ``p_ng``, only a random n-gram of the example is kept. ``n_iter`` draws per
example; a draw equal to the example or to an earlier draw is discarded, so an example yields at
most ``n_iter`` distinct copies.

Every copy has two aligned views: the text the teacher reads (a mask rendered as the teacher
tokenizer's mask token) and the words the student reads (a mask is the student's ``<unk>``).
Whitespace tokens are kept in the teacher text and never changed; the student never sees them.
"""

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jieba
import jieba.posseg
import numpy as np
import pandas as pd

from text_distill.distill.data.vocab import UNK

MASK = UNK  # the student's view of a masked word


@dataclass(frozen=True)
class AugmentConfig:
    n_iter: int = 4  # draws per example
    p_mask: float = 0.1
    p_pos: float = 0.1
    p_ng: float = 0.25
    ngram_min: int = 1
    ngram_max: int = 5
    seed: int = 42

    def __post_init__(self) -> None:
        if not (self.p_mask >= 0 and self.p_pos >= 0 and self.p_mask + self.p_pos <= 1):
            raise ValueError(f"need p_mask, p_pos >= 0 and p_mask + p_pos <= 1, got {self}")
        if not 0 <= self.p_ng <= 1 or not 1 <= self.ngram_min <= self.ngram_max or self.n_iter < 0:
            raise ValueError(f"need 0 <= p_ng <= 1, 1 <= ngram_min <= ngram_max, n_iter >= 0; got {self}")

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> "AugmentConfig":
        """The ``augment`` parameters (``ngram_range: [min, max]``) as typed settings."""
        low, high = params["ngram_range"]
        return cls(
            n_iter=int(params["n_iter"]),
            p_mask=float(params["p_mask"]),
            p_pos=float(params["p_pos"]),
            p_ng=float(params["p_ng"]),
            ngram_min=int(low),
            ngram_max=int(high),
            seed=int(params["seed"]),
        )


@dataclass(frozen=True)
class AugmentedText:
    """One augmented copy: ``tokens`` keeps whitespace tokens; ``MASK`` marks a masked word."""

    tokens: tuple[str, ...]

    def teacher_text(self, mask_token: str) -> str:
        return "".join(mask_token if token == MASK else token for token in self.tokens)

    def student_words(self) -> list[str]:
        return [token for token in self.tokens if not token.isspace()]


def jieba_tokens(text: str) -> list[str]:
    """jieba's segmentation with whitespace tokens kept, so that joining gives the text back."""
    return jieba.lcut(text)


@lru_cache(maxsize=200_000)
def pos_tag(word: str) -> str:
    """The word's tag in jieba.posseg's dictionary; words outside it are tagged by jieba.posseg
    (numbers ``m``, Latin ``eng``, punctuation ``x``, ...). Tagging a given segmentation word by word
    keeps the student's words exactly jieba's ``lcut`` words."""
    tag = jieba.posseg.dt.word_tag_tab.get(word)
    if tag is None:
        pairs = list(jieba.posseg.cut(word))
        tag = pairs[0].flag if pairs else "x"
    return tag


class PosVocabulary:
    """Words by part of speech with their train-split frequencies, for POS-guided replacement."""

    def __init__(self, counts: Counter) -> None:
        by_tag: dict[str, list[tuple[str, int]]] = {}
        for word, count in sorted(counts.items()):
            by_tag.setdefault(pos_tag(word), []).append((word, count))
        self._words = {tag: [word for word, _ in pairs] for tag, pairs in by_tag.items()}
        self._cumulative = {
            tag: np.cumsum([count for _, count in pairs]) / sum(count for _, count in pairs)
            for tag, pairs in by_tag.items()
        }

    @classmethod
    def from_words(cls, word_lists: Iterable[Sequence[str]]) -> "PosVocabulary":
        return cls(Counter(word for words in word_lists for word in words if not word.isspace()))

    def tags(self) -> list[str]:
        return sorted(self._words)

    def sample(self, tag: str, rng: np.random.Generator) -> str | None:
        """A word of ``tag`` drawn by unigram frequency; ``None`` when the vocabulary has none."""
        cumulative = self._cumulative.get(tag)
        if cumulative is None:
            return None
        index = min(int(np.searchsorted(cumulative, rng.random(), side="right")), len(cumulative) - 1)
        return self._words[tag][index]


def augment_once(
    tokens: Sequence[str], vocabulary: PosVocabulary, config: AugmentConfig, rng: np.random.Generator
) -> AugmentedText:
    """One draw of the three rules over ``tokens`` (jieba tokens, whitespace included)."""
    out = []
    for token in tokens:
        if token.isspace():
            out.append(token)
            continue
        draw = rng.random()
        if draw < config.p_mask:
            out.append(MASK)
        elif draw < config.p_mask + config.p_pos:
            out.append(vocabulary.sample(pos_tag(token), rng) or token)
        else:
            out.append(token)
    if rng.random() < config.p_ng:
        words = [i for i, token in enumerate(out) if not token.isspace()]
        n = int(rng.integers(config.ngram_min, config.ngram_max + 1))
        if n < len(words):
            first = int(rng.integers(0, len(words) - n + 1))
            out = out[words[first] : words[first + n - 1] + 1]
    return AugmentedText(tuple(out))


def augment_text(
    text: str, vocabulary: PosVocabulary, config: AugmentConfig, example_seed: int
) -> list[AugmentedText]:
    """The distinct copies of ``text`` (never the text itself). Seeded by (``config.seed``,
    ``example_seed``), so an example's copies do not depend on which batch it is augmented in."""
    rng = np.random.default_rng([config.seed, example_seed])
    tokens = jieba_tokens(text)
    seen = {tuple(tokens)}
    copies = []
    for _ in range(config.n_iter):
        copy = augment_once(tokens, vocabulary, config, rng)
        if copy.tokens not in seen and copy.student_words():
            seen.add(copy.tokens)
            copies.append(copy)
    return copies


def augment_texts(
    texts: Sequence[str], seeds: Sequence[int], vocabulary: PosVocabulary, config: AugmentConfig
) -> Iterator[tuple[int, AugmentedText]]:
    """``(position in texts, copy)`` for every copy of every text, in order."""
    for position, (text, seed) in enumerate(zip(texts, seeds, strict=True)):
        for copy in augment_text(text, vocabulary, config, int(seed)):
            yield position, copy


def first_copies(transfer_rows: pd.DataFrame, copies: int | None) -> pd.DataFrame:
    """The transfer rows with at most ``copies`` augmented copies per example (the first ones drawn,
    in order; None: all); other rows (unlabelled texts) stay. How a search varies the augmentation
    size from one cached transfer set."""
    if copies is None:
        return transfer_rows
    augmented = transfer_rows["source"] == "augmented"
    rank = transfer_rows[augmented].groupby("origin_id", sort=False).cumcount()
    keep = ~augmented
    keep.loc[rank.index] = rank.to_numpy() < int(copies)
    return transfer_rows[keep].reset_index(drop=True)
