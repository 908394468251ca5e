"""The transfer set's pieces (``distill.data.transfer_set``): mask rendering, unlabelled lines by outcome,
partitions named in order."""

from types import SimpleNamespace

from text_distill.distill.data.text import text_hash
from text_distill.distill.data.transfer_set import (
    NEWS_OUTCOMES,
    TRANSFER_COLUMNS,
    UNLABELLED_OUTCOMES,
    named_partitions,
    read_news,
    read_unlabelled,
    unlabelled_partitions,
)
from text_distill.distill.models.teacher import mask_token

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


def test_every_news_text_has_one_outcome_and_sources_read_in_name_order():
    labelled = {text_hash("训练集"): "train", text_hash("未标注"): "unlabelled", text_hash("测试集"): "test"}
    sources = {
        "b": lambda: ["新闻一", "新闻二", "新闻三"],
        "a": lambda: ["新闻一", " ", "训练集", "未标注", "测试集", "语料中", "新闻四", "新闻五"],
    }
    texts, counts = read_news(sources, {"a": 2, "b": 5}, labelled, kept_before=["语料中"])
    assert texts == {"a": ["新闻一", "新闻四"], "b": ["新闻二", "新闻三"]}
    # a: one text of each outcome but equal_to_train, two of them (train, and the unlabelled split)
    assert counts["a"] == dict(zip(NEWS_OUTCOMES, [8, 1, 1, 2, 1, 1, 2], strict=True))
    assert counts["b"] == dict(zip(NEWS_OUTCOMES, [3, 0, 1, 0, 0, 0, 2], strict=True))
    assert read_news(sources, {}, labelled, [])[0] == {"a": [], "b": []}


def test_partitions_are_named_in_order_and_built_when_called():
    partitions = named_partitions(
        unlabelled_partitions(["一", "二", "三"], 2), unlabelled_partitions(["四"], 2)
    )
    assert list(partitions) == ["00000-unlabelled", "00001-unlabelled", "00002-unlabelled"]
    frame = partitions["00001-unlabelled"]()
    assert list(frame.columns) == TRANSFER_COLUMNS and frame["teacher_text"].tolist() == ["三"]
    assert frame["origin_id"].tolist() == [-1]
