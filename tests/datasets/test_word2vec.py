"""word2vec vector files as a read-only dataset: binary and text formats load as gensim
``KeyedVectors``; words with broken UTF-8 (common in Chinese vector files) load, the broken bytes
dropped."""

import numpy as np
import pytest
from gensim.models import KeyedVectors
from kedro.io import DatasetError

from text_distill.datasets.word2vec import Word2VecDataset

WORDS = ["中国", "股市", "篮球", "the"]
VECTORS = np.arange(len(WORDS) * 4, dtype=np.float32).reshape(len(WORDS), 4) / 8 - 0.5


def write_vectors(path, binary: bool) -> None:
    vectors = KeyedVectors(vector_size=4)
    vectors.add_vectors(WORDS, VECTORS)
    vectors.save_word2vec_format(str(path), binary=binary)


@pytest.mark.parametrize("binary", [True, False])
def test_vectors_load_as_written(tmp_path, binary):
    write_vectors(tmp_path / "words.vector", binary)
    loaded = Word2VecDataset(str(tmp_path / "words.vector"), binary=binary).load()
    assert isinstance(loaded, KeyedVectors)
    assert loaded.index_to_key == WORDS and loaded.vector_size == 4
    np.testing.assert_allclose(loaded.vectors, VECTORS, atol=1e-6)
    assert loaded.most_similar("中国", topn=1)[0][0] in WORDS


def test_the_default_is_binary(tmp_path):
    write_vectors(tmp_path / "words.vector", binary=True)
    dataset = Word2VecDataset(str(tmp_path / "words.vector"))
    assert dataset._describe() == {"filepath": str(tmp_path / "words.vector"), "binary": True}
    assert dataset.load().index_to_key == WORDS


def test_a_word_with_broken_utf8_loads_without_the_broken_bytes(tmp_path):
    # "中" (e4 b8 ad) followed by the first byte of a character cut short
    (tmp_path / "words.txt").write_bytes(b"2 3\n\xe4\xb8\xad\xe5 0.1 0.2 0.3\nab 1 2 3\n")
    loaded = Word2VecDataset(str(tmp_path / "words.txt"), binary=False).load()
    assert loaded.index_to_key == ["中", "ab"]
    np.testing.assert_allclose(loaded["ab"], [1, 2, 3])


def test_word2vec_files_are_read_only(tmp_path):
    dataset = Word2VecDataset(str(tmp_path / "words.vector"))
    with pytest.raises(DatasetError, match="read-only"):
        dataset.save(KeyedVectors(vector_size=4))
    assert not (tmp_path / "words.vector").exists()
