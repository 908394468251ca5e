"""The transfer set's pieces (``distill.transfer_set``): mask rendering, unlabelled lines by outcome,
partitions named in order."""

from types import SimpleNamespace

from text_distill.distill.text import text_hash
from text_distill.distill.transfer_set import (
    TRANSFER_COLUMNS,
    UNLABELLED_OUTCOMES,
    mask_token,
    named_partitions,
    read_unlabelled,
    unlabelled_partitions,
)

TEACHER = SimpleNamespace(tokenizer=SimpleNamespace(mask_token="[MASK]", unk_token="[UNK]"))


def test_masks_are_rendered_with_the_teachers_token():
    assert mask_token(TEACHER) == "[MASK]"
    assert (
        mask_token(SimpleNamespace(tokenizer=SimpleNamespace(mask_token=None, unk_token="<unk>"))) == "<unk>"
    )


def test_every_unlabelled_line_has_one_outcome():
    lines = [
        "体育\t新闻一",
        "no tab",
        "体育\t ",
        "体育\t新闻一",
        "体育\t训练集",
        "体育\t测试集",
        "体育\t新闻二",
    ]
    corpus = "\n".join([*lines, "体育\t\udcff坏"])
    labelled = {text_hash("训练集"): "train", text_hash("测试集"): "test"}
    texts, counts = read_unlabelled(corpus, labelled, {"max_rows": 1, "format": "labelled"})
    assert texts == ["新闻一"]
    assert counts == dict(zip(UNLABELLED_OUTCOMES, [8, 1, 1, 1, 1, 1, 1, 1, 1], strict=True))  # one each
    assert read_unlabelled(corpus, labelled, {"max_rows": 0, "format": "labelled"})[0] == []


def test_partitions_are_named_in_order_and_built_when_called():
    partitions = named_partitions(
        unlabelled_partitions(["一", "二", "三"], 2), unlabelled_partitions(["四"], 2)
    )
    assert list(partitions) == ["00000-unlabelled", "00001-unlabelled", "00002-unlabelled"]
    frame = partitions["00001-unlabelled"]()
    assert list(frame.columns) == TRANSFER_COLUMNS and frame["teacher_text"].tolist() == ["三"]
    assert frame["origin_id"].tolist() == [-1]
