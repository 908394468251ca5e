"""Text normalisation and segmentation shared by training and inference.

Training tables and the end-to-end predictors call the same functions, so a student sees at serving
time exactly the tokens it was trained on.
"""

import hashlib
import re
import unicodedata

import jieba

_WHITESPACE = re.compile(r"\s+")
jieba.setLogLevel(60)  # jieba prints its dictionary loading to stderr otherwise


def normalise_text(text: str) -> str:
    """NFKC (full-width -> half-width, compatibility forms), collapse whitespace, strip."""
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFKC", text)).strip()


def text_hash(text: str) -> str:
    """Stable short hash of a normalised text (16 hex digits of SHA-256)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def segment_words(text: str) -> list[str]:
    """jieba words of a normalised text, without whitespace tokens."""
    return [word for word in jieba.lcut(text) if not word.isspace()]


def segment_chars(text: str) -> list[str]:
    """Characters of a normalised text, without whitespace."""
    return [char for char in text if not char.isspace()]


SEGMENTERS = {"word": segment_words, "char": segment_chars}
