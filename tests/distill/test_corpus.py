"""Corpus ingestion (``distill.data.corpus``, ``distill.data.splits``): parsing, validation with
quarantine and row accounting, leakage-free splits."""

import json

import pandas as pd
import pytest
from kedro_datasets.text import TextDataset

from text_distill.distill.data.corpus import CorpusError, check_corpus, parse_corpus, validate_corpus
from text_distill.distill.data.splits import split_examples

TSV = {
    "format": "tsv",
    "has_header": False,
    "column_names": ["label", "text"],
    "text_column": "text",
    "label_column": "label",
}
VALIDATION = {"labels": None, "min_rows_per_label": 1, "max_chars": 10000}
CHECK = {"max_quarantined_share": 0.5}


def ingest(source: str, parse: dict = TSV, **validation) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    return validate_corpus(parse_corpus(source, parse), {**VALIDATION, **validation})


def read_like_catalog(path, encoding: str = "utf-8") -> str:
    """Read a file exactly as the ``corpus_source`` catalog entry does."""
    dataset = TextDataset(
        filepath=str(path), fs_args={"open_args_load": {"encoding": encoding, "errors": "surrogateescape"}}
    )
    return dataset.load()


def test_parses_thucnews_lines(thucnews_lines):
    raw = parse_corpus("\n".join(thucnews_lines[:50]) + "\n", TSV)
    assert len(raw) == 50
    assert raw["problem"].isna().all()
    assert raw["source_line"].tolist() == list(range(1, 51))
    assert raw.loc[0, "raw_label"] == thucnews_lines[0].split("\t")[0]


def test_normalises_text_and_collapses_exact_duplicates():
    kept, quarantine, rows = ingest("体育\t  中国队　夺冠 \n体育\t中国队 夺冠\n财经\t股市大涨\n")
    assert kept["text"].tolist() == ["中国队 夺冠", "股市大涨"]  # NFKC turns the ideographic space into " "
    assert rows == {
        "rows_in": 3,
        "kept": 2,
        "unlabelled": 0,
        "quarantined": 0,
        "duplicates_collapsed": 1,
        "quarantined_by_reason": {},
    }
    assert quarantine.empty


def test_empty_text_is_quarantined_and_an_empty_label_is_an_unlabelled_text():
    kept, quarantine, rows = ingest("体育\t中国队夺冠\n体育\t   \n\t没有标签\n财经\t股市大涨\n")
    assert dict(zip(quarantine["source_line"], quarantine["reason"], strict=True)) == {2: "empty_text"}
    assert dict(zip(kept["text"], kept["label"], strict=True)) == {
        "中国队夺冠": "体育",
        "股市大涨": "财经",
        "没有标签": "",
    }
    assert (rows["kept"], rows["unlabelled"], rows["quarantined"]) == (2, 1, 1)
    assert (
        rows["rows_in"]
        == rows["kept"] + rows["unlabelled"] + rows["quarantined"] + rows["duplicates_collapsed"]
    )


def test_unlabelled_texts_that_repeat_a_kept_text_are_collapsed():
    source = "体育\t中国队夺冠\n\t中国队夺冠\n\t没有标签\n\t没有标签\n财经\t股市大涨\n"
    kept, quarantine, rows = ingest(source)
    assert kept.loc[kept["label"] == "", "text"].tolist() == ["没有标签"]
    assert (rows["kept"], rows["unlabelled"], rows["duplicates_collapsed"]) == (2, 1, 2)
    assert quarantine.empty


def test_jsonl_records_without_a_label_value_are_unlabelled_texts():
    source = "\n".join(
        json.dumps(record, ensure_ascii=False)
        for record in (
            {"text": "中国队夺冠", "label": "体育"},
            {"text": "股市大涨", "label": None},
            {"text": "银行"},
        )
    )
    kept, _, rows = ingest(source, {**TSV, "format": "jsonl"})
    assert kept["label"].tolist() == ["体育", "", ""] and rows["unlabelled"] == 2


def test_a_corpus_without_any_labelled_row_stops_in_one_line():
    kept, _, rows = ingest("\t第一条\n\t第二条\n")
    with pytest.raises(
        CorpusError, match=r"^no labelled rows: the 2 usable rows all have an empty label"
    ) as error:
        check_corpus(kept, rows, {**CHECK, "label_column": "label"})
    assert "\n" not in str(error.value)


def test_conflicting_labels_quarantine_every_copy():
    kept, quarantine, rows = ingest("体育\t同一个标题\n财经\t同一个标题\n财经\t股市大涨\n")
    assert kept["text"].tolist() == ["股市大涨"]
    assert quarantine["reason"].tolist() == ["conflicting_labels", "conflicting_labels"]


def test_malformed_rows_and_unknown_labels_are_quarantined():
    kept, quarantine, rows = ingest("体育\t中国队夺冠\n只有一列\n科幻\t外星人来了\n", labels=["体育"])
    reasons = dict(zip(quarantine["source_line"], quarantine["reason"], strict=True))
    assert reasons == {2: "malformed_row", 3: "unknown_label"}
    assert "expected 2 fields, got 1" in quarantine.loc[quarantine["source_line"] == 2, "detail"].item()


def test_label_too_rare_for_every_split_is_quarantined_not_left_for_test():
    source = "".join(f"体育\t体育新闻{i}\n" for i in range(12)) + "".join(
        f"财经\t财经新闻{i}\n" for i in range(12)
    )
    source += "军事\t只出现一次的类别\n"
    kept, quarantine, rows = ingest(source, min_rows_per_label=3)
    assert set(kept["label"]) == {"体育", "财经"}
    assert quarantine["reason"].tolist() == ["rare_label"]
    assert "has 1 rows" in quarantine["detail"].item()
    examples, labels, _ = split_examples(
        kept, {"seed": 1, "dev_size": 4, "test_size": 4, "max_rows": None, "min_train_share": 0.5}
    )
    assert labels == ["体育", "财经"]


def test_empty_file_is_a_clear_error(tmp_path):
    path = tmp_path / "empty.tsv"
    path.write_text("")
    with pytest.raises(CorpusError, match="empty"):
        parse_corpus(read_like_catalog(path), TSV)


def test_file_without_the_label_column_is_a_clear_error():
    csv_params = {**TSV, "format": "csv", "has_header": True}
    with pytest.raises(
        CorpusError, match=r"column 'label' not found; the corpus has columns \['title', 'text'\]"
    ):
        parse_corpus("title,text\na,b\n", csv_params)
    jsonl_params = {**TSV, "format": "jsonl"}
    with pytest.raises(CorpusError, match="no JSON record has the label key 'label'"):
        parse_corpus(json.dumps({"text": "标题"}) + "\n", jsonl_params)


def test_non_utf8_file_is_a_clear_error_with_an_encoding_hint(tmp_path):
    path = tmp_path / "gbk.tsv"
    path.write_bytes("体育\t中国队夺冠\n财经\t股市大涨\n".encode("gbk"))
    kept, _, rows = ingest(read_like_catalog(path))
    with pytest.raises(CorpusError, match="set corpus_encoding"):
        check_corpus(kept, rows, CHECK)
    kept, _, _ = ingest(read_like_catalog(path, encoding="gbk"))
    assert kept["text"].tolist() == ["中国队夺冠", "股市大涨"]


def test_a_few_undecodable_rows_are_quarantined(tmp_path):
    path = tmp_path / "mixed.tsv"
    path.write_bytes(
        "体育\t中国队夺冠\n".encode() + "财经\t股市大涨\n".encode("gbk") + "财经\t银行\n".encode()
    )
    kept, quarantine, rows = ingest(read_like_catalog(path))
    assert quarantine["reason"].tolist() == ["undecodable"]
    assert rows["kept"] == 2


def test_csv_and_jsonl_with_configurable_columns():
    csv_params = {**TSV, "format": "csv", "has_header": True, "text_column": "title", "label_column": "topic"}
    kept, _, _ = ingest('id,title,topic\n1,"股市, 大涨",财经\n2,夺冠,体育\n', csv_params)
    assert kept["text"].tolist() == ["股市, 大涨", "夺冠"]
    jsonl_params = {**TSV, "format": "jsonl", "text_column": "title", "label_column": "topic"}
    source = '{"title": "夺冠", "topic": "体育"}\n{not json\n{"title": "股市", "topic": "财经"}\n'
    kept, quarantine, _ = ingest(source, jsonl_params)
    assert kept["label"].tolist() == ["体育", "财经"]
    assert quarantine["reason"].tolist() == ["malformed_row"]


def test_split_is_stratified_seeded_and_leakage_free(thucnews_lines):
    kept, _, _ = ingest("\n".join(thucnews_lines) + "\n", min_rows_per_label=10)
    params = {"seed": 7, "dev_size": 300, "test_size": 0.2, "max_rows": 2000, "min_train_share": 0.5}
    examples, labels, _ = split_examples(kept, params)
    again, _, _ = split_examples(kept, params)
    pd.testing.assert_frame_equal(examples, again)
    sizes = examples["split"].value_counts().to_dict()
    assert sizes == {"train": 1300, "dev": 300, "test": 400}
    by_split = examples.groupby("split")["text"].apply(set)
    assert not (by_split["train"] & by_split["test"]) and not (by_split["dev"] & by_split["test"])
    assert not (by_split["train"] & by_split["dev"])
    shares = examples.groupby("split")["label"].value_counts(normalize=True).unstack()
    assert (shares.max() - shares.min()).max() < 0.03  # stratified: each label's share alike per split
    assert examples["label_id"].map(lambda i: labels[i]).tolist() == examples["label"].tolist()
