"""Text normalisation and segmentation shared by training and inference.

Training tables and the end-to-end predictors call the same functions, so a student sees at serving
time exactly the tokens it was trained on. The word segmenter is a named choice (``WORD_SEGMENTERS``):
a student carries a picklable ``Segmenter`` naming it, so serving segments as training did.
"""

import hashlib
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar

import jieba
import rjieba

from text_distill.distill.data.vocab import UNK

_WHITESPACE = re.compile(r"\s+")
# zero-width space, non-joiner, joiner, word joiner, BOM: invisible, and not whitespace to \s
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
jieba.setLogLevel(60)  # jieba prints its dictionary loading to stderr otherwise


def normalise_text(text: str) -> str:
    """NFKC (full-width -> half-width, compatibility forms), drop zero-width characters, collapse
    whitespace, strip: a text of only invisible characters normalises to ``""``."""
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFKC", text).translate(_ZERO_WIDTH)).strip()


def text_hash(text: str) -> str:
    """Stable short hash of a normalised text (16 hex digits of SHA-256)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def segment_words(text: str) -> list[str]:
    """jieba words of a normalised text, without whitespace tokens."""
    return [word for word in jieba.lcut(text) if not word.isspace()]


def segment_words_rjieba(text: str) -> list[str]:
    """rjieba (the jieba-rs binding) words: jieba's dictionary and the same words on Chinese text,
    about 10x faster; alphanumeric spans (``EB-5``, ``6.99mm``) stay whole."""
    return [word for word in rjieba.cut(text) if not word.isspace()]


def segment_chars(text: str) -> list[str]:
    """Characters of a normalised text, without whitespace."""
    return [char for char in text if not char.isspace()]


WORD_SEGMENTERS: dict[str, Callable[[str], list[str]]] = {
    "jieba": segment_words,
    "rjieba": segment_words_rjieba,
}


def word_segmenter(name: str) -> Callable[[str], list[str]]:
    """The word segmenter registered as ``name`` (``segment.segmenter``)."""
    if name not in WORD_SEGMENTERS:
        raise ValueError(f"segment.segmenter must be one of {sorted(WORD_SEGMENTERS)}, got {name!r}")
    return WORD_SEGMENTERS[name]


def _chars_of_words(words: Sequence[str]) -> list[str]:
    return [char for word in words for char in ([word] if word == UNK else word)]


def ngram_features(
    words: Sequence[str], char_ngrams: Sequence[int] = (1, 3), word_ngrams: Sequence[int] = (1, 2)
) -> list[str]:
    """fastText-style features of a segmented text: word n-grams (``w:`` unigrams, ``w:a|b``
    bigrams, ...) and character n-grams over the text's characters (``c:``). A masked word (``<unk>``,
    from augmentation) stays one symbol at the character level. Written for speed: serving runs it
    on every text."""
    features = []
    for n in range(word_ngrams[0], word_ngrams[1] + 1):
        if n == 1:
            features += ["w:" + word for word in words]
        else:
            features += ["w:" + "|".join(words[i : i + n]) for i in range(len(words) - n + 1)]
    # characters as one string (slicing a str is fast), as a list only around a masked word
    chars: Sequence[str] = _chars_of_words(words) if UNK in words else "".join(words)
    join = "".join
    for n in range(char_ngrams[0], char_ngrams[1] + 1):
        if isinstance(chars, str):
            features += ["c:" + chars[i : i + n] for i in range(len(chars) - n + 1)]
        else:
            features += ["c:" + join(chars[i : i + n]) for i in range(len(chars) - n + 1)]
    return features


@dataclass(frozen=True)
class Segmenter:
    """Normalised text -> a student's tokens: ``word`` (words of the named word segmenter),
    ``char`` (characters) or ``ngram`` (word and character n-gram features of those words).
    Picklable, so the student and the served model carry it."""

    kind: ClassVar[str] = "words"  # its name in a saved student's config (``student.SEGMENTERS``)
    unit: str = "word"
    words: str = "jieba"
    char_ngrams: tuple[int, int] = (1, 3)
    word_ngrams: tuple[int, int] = (1, 2)

    def __post_init__(self) -> None:
        if self.unit not in _FROM_WORDS:
            raise ValueError(f"student.unit must be one of {sorted(_FROM_WORDS)}, got {self.unit!r}")
        word_segmenter(self.words)

    def __call__(self, text: str) -> list[str]:
        if self.unit == "char":  # no word segmentation needed: characters straight from the text
            return segment_chars(text)
        return self.from_words(word_segmenter(self.words)(text))

    def from_words(self, words: Sequence[str]) -> list[str]:
        """The unit's tokens of an already segmented text (training rows, augmented copies)."""
        return _FROM_WORDS[self.unit](self, words)

    def save(self, directory: Path) -> dict[str, Any]:
        """Its config (JSON values): the names and n-gram ranges, nothing to write beside it."""
        return {
            key: list(value) if isinstance(value, tuple) else value for key, value in asdict(self).items()
        }

    @classmethod
    def load(cls, config: dict[str, Any], directory: Path) -> "Segmenter":
        ranges = {key: tuple(config[key]) for key in ("char_ngrams", "word_ngrams")}
        return cls(**{**config, **ranges})


_FROM_WORDS: dict[str, Callable[[Segmenter, Sequence[str]], list[str]]] = {
    "word": lambda segmenter, words: list(words),
    "char": lambda segmenter, words: _chars_of_words(words),
    "ngram": lambda segmenter, words: ngram_features(words, segmenter.char_ngrams, segmenter.word_ngrams),
}
UNITS = tuple(_FROM_WORDS)
SEGMENTERS = {"word": segment_words, "char": segment_chars}  # students pickled before ``Segmenter``
