"""The n-gram student's token ids for a whole batch at once, in numpy.

``ngram_features`` builds about 70 feature strings a headline and a dict lookup turns each into an
id: two thirds of the student's end-to-end time was Python doing that, one string at a time. Here
every character and word gets a small integer once, an n-gram becomes one int64 key (its members'
integers as digits of base ``len(table) + 2``), and a batch's keys are found among the vocabulary's
keys with one hash lookup in compiled code (pandas' ``Index.get_indexer``). The ids, their order
and the ``max_tokens`` cut are exactly those of the string path (tests compare the two); texts the
keys cannot express exactly (a masked ``<unk>`` word from augmentation, a word containing the ``|``
that joins word n-grams) take the string path.
"""

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from text_distill.distill.data.vocab import UNK

WORD_JOIN = "|"  # how ngram_features joins the words of a word n-gram


def _keys(digits: np.ndarray, ends: np.ndarray, n: int, base: int) -> tuple[np.ndarray, np.ndarray]:
    """The key of every n-gram of ``digits`` that ends inside its text (``ends``: the end of each
    position's text), and where it starts."""
    if len(digits) < n:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    keys = digits[: len(digits) - n + 1].copy()
    for offset in range(1, n):
        keys = keys * base + digits[offset : len(digits) - n + 1 + offset]
    positions = np.arange(len(keys))
    inside = positions + n <= ends[: len(keys)]
    return keys[inside], positions[inside]


class _Table:
    """Symbols (characters or words) -> 1..len, anything else -> len + 1; n-gram keys -> ids (a
    hash index: pandas' ``get_indexer`` finds a batch of int64 keys in compiled code)."""

    def __init__(self, grams: Mapping[tuple[str, ...], int], longest: int) -> None:
        symbols = sorted({symbol for gram in grams for symbol in gram})
        self.index = {symbol: i + 1 for i, symbol in enumerate(symbols)}
        self.unknown = len(symbols) + 1
        self.base = len(symbols) + 2
        if self.base**longest >= 2**63:  # a wrapped key could equal a real one
            raise OverflowError(f"{len(symbols)} symbols cannot key {longest}-grams in int64")
        self.keys = pd.Index(np.array([self.key(gram) for gram in grams], dtype=np.int64))
        self.ids = np.array(list(grams.values()), dtype=np.int64)

    def key(self, gram: Sequence[str]) -> int:
        value = 0
        for symbol in gram:
            value = value * self.base + self.index[symbol]
        return value

    def digits(self, texts: Sequence[Sequence[str]], count: int) -> np.ndarray:
        """Every symbol of ``texts``, one after another, as its integer."""
        index, unknown = self.index.get, self.unknown
        return np.fromiter(
            (index(symbol, unknown) for text in texts for symbol in text), np.int64, count=count
        )

    def lookup(self, keys: np.ndarray, unknown_id: int) -> np.ndarray:
        """The vocabulary id of each key, ``unknown_id`` where the vocabulary has none."""
        if not len(self.ids):
            return np.full(len(keys), unknown_id, np.int64)
        where = self.keys.get_indexer(keys)
        return np.where(where >= 0, self.ids[where], unknown_id)


class _CharTable(_Table):
    """Characters found by code point in numpy, not one dict lookup each."""

    def __init__(self, grams: Mapping[tuple[str, ...], int], longest: int) -> None:
        super().__init__(grams, longest)
        self.code_points = pd.Index(np.array([ord(char) for char in self.index], dtype=np.int64))

    def digits(self, texts: Sequence[str], count: int) -> np.ndarray:
        points = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
        where = self.code_points.get_indexer(points)  # self.index is sorted: position + 1 is the digit
        return np.where(where >= 0, where + 1, self.unknown)


class NgramIndex:
    """``token_ids`` (a ``StudentClassifier``'s vocabulary of ``ngram_features``) as integer keys.
    Raises ``OverflowError`` where the longest n-gram's keys would not fit in int64."""

    def __init__(
        self,
        token_ids: Mapping[str, int],
        char_ngrams: Sequence[int],
        word_ngrams: Sequence[int],
        max_tokens: int,
        string_ids: Callable[[Sequence[str]], Sequence[int]],
    ) -> None:
        """``string_ids``: the string path (feature strings looked up one by one) for the texts
        integer keys cannot express."""
        self.string_ids = string_ids
        self.char_ngrams = (int(char_ngrams[0]), int(char_ngrams[1]))
        self.word_ngrams = (int(word_ngrams[0]), int(word_ngrams[1]))
        self.max_tokens = int(max_tokens)
        self.unknown_id = int(token_ids[UNK])
        chars: dict[tuple[str, ...], int] = {}
        words: dict[tuple[str, ...], int] = {}
        for token, token_id in token_ids.items():
            if token.startswith("c:"):
                gram = tuple(token[2:])
                if self.char_ngrams[0] <= len(gram) <= self.char_ngrams[1]:
                    chars[gram] = token_id
            elif token.startswith("w:"):
                # an n-gram whose split is ambiguous (a word with "|") is reached by no text that
                # takes this path (such texts take the string path), so it may be left out
                parts = tuple(token[2:].split(WORD_JOIN))
                n = len(parts)
                if (n == 1 or all(parts)) and self.word_ngrams[0] <= n <= self.word_ngrams[1]:
                    words.setdefault(parts, token_id)
        self.chars = _CharTable(chars, self.char_ngrams[1])
        self.words = _Table(words, self.word_ngrams[1])

    @staticmethod
    def exact(words: Sequence[str]) -> bool:
        """Whether integer keys give exactly ``ngram_features(words)``."""
        return UNK not in words and not any(WORD_JOIN in word for word in words)

    def _section(
        self, table: _Table, texts: Sequence[Sequence[str]], sizes: range
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """(ids, text of each id) of the n-grams of each n in ``sizes``, in text order."""
        lengths = np.fromiter(map(len, texts), np.int64, count=len(texts))
        digits = table.digits(texts, int(lengths.sum()))
        text_of = np.repeat(np.arange(len(texts)), lengths)
        ends = np.repeat(np.cumsum(lengths), lengths)
        sections = []
        for n in sizes:
            keys, positions = _keys(digits, ends, n, table.base)
            sections.append((table.lookup(keys, self.unknown_id), text_of[positions]))
        return sections

    def ids(self, word_lists: Sequence[Sequence[str]]) -> tuple[np.ndarray, np.ndarray]:
        """The ids of ``ngram_features(words)[:max_tokens]`` of every text, one flat array, and each
        text's count: what the string path and its lookup give (an empty text: one ``<unk>``)."""
        if not word_lists:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        exact = [self.exact(words) for words in word_lists]
        texts = [words for words, ok in zip(word_lists, exact, strict=True) if ok]
        (w_lo, w_hi), (c_lo, c_hi) = self.word_ngrams, self.char_ngrams
        sections = self._section(self.words, texts, range(w_lo, w_hi + 1))
        sections += self._section(self.chars, ["".join(words) for words in texts], range(c_lo, c_hi + 1))
        ids = np.concatenate([section[0] for section in sections])
        text_of = np.concatenate([section[1] for section in sections])
        order = np.argsort(text_of, kind="stable")  # by text; within one, sections then positions
        ids = ids[order]
        bounds = np.searchsorted(text_of[order], np.arange(len(texts) + 1))
        rows, row = [], 0
        for words, ok in zip(word_lists, exact, strict=True):
            if ok:
                rows.append(ids[bounds[row] : min(bounds[row + 1], bounds[row] + self.max_tokens)])
                row += 1
            else:
                rows.append(np.asarray(self.string_ids(words), np.int64))
        rows = [ids if len(ids) else np.array([self.unknown_id]) for ids in rows]
        return np.concatenate(rows).astype(np.int64), np.fromiter(map(len, rows), np.int64, count=len(rows))
