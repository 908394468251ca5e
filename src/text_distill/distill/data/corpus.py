"""Corpus ingestion: raw corpus text (TSV, CSV or JSONL) -> one row per source record -> validated,
de-duplicated examples + quarantine + row accounting -> a check that enough of it is usable.

Every input row ends in exactly one place: kept (labelled), unlabelled (an empty or absent label: a text
the teacher labels for the student, never a training label), quarantined (with a reason), or collapsed
as an exact duplicate of a kept row; ``rows_in == kept + unlabelled + quarantined + duplicates_collapsed``
is checked. Parameters
are the ``ingest`` group (``conf/base/parameters_ingest.yml``), which the messages name.
"""

import csv
import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pandas as pd

from text_distill.distill.data.text import normalise_text, text_hash
from text_distill.errors import TextDistillError

logger = logging.getLogger(__name__)

RAW_COLUMNS = ["source_line", "raw_label", "raw_text", "problem"]
QUARANTINE_COLUMNS = ["source_line", "raw_label", "raw_text", "reason", "detail"]
EXAMPLE_COLUMNS = ["example_id", "text", "label", "text_hash"]
BOM = "\ufeff"
QUARANTINE_FILE = "the quarantine dataset (data/02_intermediate/quarantine.csv)"
HINTS = {
    "undecodable": "Most rows are not valid in the configured encoding: set corpus_encoding in "
    "conf/base/globals.yml (or in the globals.yml of the run's --env, or conf/local).",
    "malformed_row": "Check ingest.format, ingest.has_header and ingest.column_names against the file.",
    "empty_text": "Check ingest.text_column.",
    "too_long": "Raise ingest.max_chars if texts this long are meant.",
    "unknown_label": "Check the allow-list ingest.labels.",
    "conflicting_labels": "The same texts carry different labels: fix the labels in the file.",
    "rare_label": "Labels have fewer rows than ingest.min_rows_per_label: lower it or add rows.",
}


class CorpusError(TextDistillError, ValueError):
    """The corpus cannot be ingested at all (the message says why and what to change)."""


def _escape_undecodable(row: dict[str, Any]) -> dict[str, Any]:
    """The source is read with ``errors="surrogateescape"``: undecodable bytes arrive as lone
    surrogates, which Arrow-backed strings cannot hold. Show them as ``\\xNN`` and flag the row."""
    for key in ("raw_text", "raw_label"):
        value = row[key]
        if isinstance(value, str) and any("\udc80" <= char <= "\udcff" for char in value):
            row[key] = value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
            row["problem"] = row["problem"] or (
                "undecodable: bytes not valid in the configured corpus_encoding (globals.yml)"
            )
    return row


@contextmanager
def _csv_field_size_limit(limit: int) -> Iterator[None]:
    """Let the csv reader see a field as long as the whole source (the default stops at 131,072
    characters with an error): over-long texts are quarantined as ``too_long`` by validation."""
    previous = csv.field_size_limit()
    csv.field_size_limit(max(previous, limit))
    try:
        yield
    finally:
        csv.field_size_limit(previous)


def _columns(reader: Iterator[list[str]], params: dict[str, Any]) -> list[str]:
    if params["has_header"]:
        header = next(reader, None)
        if header is None:
            raise CorpusError("corpus source has a header setting but no lines at all")
        columns = [name.strip() for name in header]
    else:
        columns = list(params["column_names"])
    for wanted in (params["text_column"], params["label_column"]):
        if wanted not in columns:
            raise CorpusError(
                f"column {wanted!r} not found; the corpus has columns {columns}. "
                "Set ingest.text_column / ingest.label_column (or ingest.column_names for files "
                "without a header) in conf/base/parameters_ingest.yml."
            )
    return columns


def _rows_from_delimited(source: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    delimiter = "\t" if params["format"] == "tsv" else ","
    quoting = csv.QUOTE_NONE if params["format"] == "tsv" else csv.QUOTE_MINIMAL
    reader = csv.reader(io.StringIO(source, newline=""), delimiter=delimiter, quoting=quoting)
    rows = []
    with _csv_field_size_limit(len(source) + 1):
        columns = _columns(reader, params)
        text_at, label_at = columns.index(params["text_column"]), columns.index(params["label_column"])
        for fields in reader:
            row = {"source_line": reader.line_num, "raw_label": None, "raw_text": None, "problem": None}
            if len(fields) != len(columns):
                row["problem"] = f"malformed_row: expected {len(columns)} fields, got {len(fields)}"
                row["raw_text"] = delimiter.join(fields)
            else:
                row["raw_text"], row["raw_label"] = fields[text_at], fields[label_at]
            rows.append(row)
    return rows


def _rows_from_jsonl(source: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for line_number, line in enumerate(source.splitlines(), start=1):
        row = {"source_line": line_number, "raw_label": None, "raw_text": None, "problem": None}
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                raise ValueError("not a JSON object")
        except ValueError as exc:
            row["problem"], row["raw_text"] = f"malformed_row: {exc}", line
        else:
            text, label = record.get(params["text_column"]), record.get(params["label_column"])
            row["raw_text"] = None if text is None else str(text)
            row["raw_label"] = None if label is None else str(label)
        rows.append(row)
    if rows and all(row["raw_label"] is None and row["problem"] is None for row in rows):
        raise CorpusError(
            f"no JSON record has the label key {params['label_column']!r}; set ingest.label_column"
        )
    return rows


def parse_corpus(source: str, params: dict[str, Any]) -> pd.DataFrame:
    """Parse the raw corpus text (TSV, CSV or JSONL) into one row per source record.

    A leading byte-order mark is dropped whatever the format. Rows that cannot be parsed are kept
    with a ``problem`` so validation can quarantine them.
    """
    source = source.removeprefix(BOM)
    if not source.strip():
        raise CorpusError("the corpus source is empty: it has no rows to ingest")
    parsers = {"tsv": _rows_from_delimited, "csv": _rows_from_delimited, "jsonl": _rows_from_jsonl}
    if params["format"] not in parsers:
        raise CorpusError(f"ingest.format must be one of {sorted(parsers)}, got {params['format']!r}")
    rows = [_escape_undecodable(row) for row in parsers[params["format"]](source, params)]
    if not rows:
        raise CorpusError("the corpus source has a header but no data rows")
    raw = pd.DataFrame(rows, columns=RAW_COLUMNS)
    raw["source_line"] = raw["source_line"].astype("int64")
    logger.info("Parsed %d raw rows", len(raw))
    return raw


def _reason(row: pd.Series, allowed_labels: set[str] | None, max_chars: int) -> tuple[str, str] | None:
    if isinstance(row["problem"], str):
        reason, _, detail = row["problem"].partition(": ")
        return reason, detail
    if row["text"] == "":
        return "empty_text", "the text is empty or whitespace only"
    if len(row["text"]) > max_chars:
        return "too_long", f"the text has {len(row['text'])} characters; ingest.max_chars is {max_chars}"
    if allowed_labels is not None and row["label"] and row["label"] not in allowed_labels:
        return "unknown_label", f"label {row['label']!r} is not in ingest.labels"
    return None


def _mark_reasons(raw: pd.DataFrame, params: dict[str, Any]) -> pd.DataFrame:
    """Normalised ``text`` and ``label`` plus the first quarantine ``reason``/``detail`` of each row."""
    rows = raw.copy()
    rows["text"] = rows["raw_text"].fillna("").map(normalise_text)
    rows["label"] = rows["raw_label"].fillna("").map(normalise_text)
    allowed = set(params["labels"]) if params.get("labels") else None
    max_chars = int(params["max_chars"])
    reasons = rows.apply(lambda row: _reason(row, allowed, max_chars), axis=1)
    rows["reason"] = reasons.map(lambda r: r[0] if r else None)
    rows["detail"] = reasons.map(lambda r: r[1] if r else None)
    candidates = rows[rows["reason"].isna() & (rows["label"] != "")]
    labels_per_text = candidates.groupby("text")["label"].nunique()
    conflicting = candidates["text"].isin(labels_per_text[labels_per_text > 1].index)
    rows.loc[conflicting[conflicting].index, ["reason", "detail"]] = [
        "conflicting_labels",
        "the same text appears with different labels",
    ]
    return rows


def _mark_rare_labels(rows: pd.DataFrame, kept: pd.DataFrame, minimum: int) -> pd.DataFrame:
    """Quarantine (in ``rows``) the kept rows of labels with fewer than ``minimum`` rows; the rest."""
    label_counts = kept["label"].value_counts()
    rare = kept["label"].map(label_counts) < minimum
    rows.loc[rare[rare].index, "reason"] = "rare_label"
    rows.loc[rare[rare].index, "detail"] = kept.loc[rare, "label"].map(
        lambda label: (
            f"label {label!r} has {label_counts[label]} rows; train, dev and test need "
            f"at least {minimum} (ingest.min_rows_per_label)"
        )
    )
    return kept[~rare]


def _row_accounting(
    rows_in: int, kept: int, unlabelled: int, quarantine: pd.DataFrame, duplicates: int
) -> dict[str, Any]:
    """Where every input row went; refuses counts that do not add up to the rows read."""
    by_reason = {str(k): int(v) for k, v in quarantine["reason"].value_counts().sort_index().items()}
    accounting = {
        "rows_in": int(rows_in),
        "kept": int(kept),
        "unlabelled": int(unlabelled),
        "quarantined": int(len(quarantine)),
        "duplicates_collapsed": int(duplicates),
        "quarantined_by_reason": by_reason,
    }
    if rows_in != kept + unlabelled + len(quarantine) + duplicates:
        raise AssertionError(f"row accounting does not add up: {accounting}")
    logger.info("Row accounting: %s", accounting)
    return accounting


def validate_corpus(
    raw: pd.DataFrame, params: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Normalise texts and labels, quarantine bad rows, collapse exact duplicates.

    A row with an empty or absent label is an unlabelled text (label ``""``), kept unless its text
    repeats a kept one. Returns the kept rows, labelled then unlabelled (possibly none:
    ``check_corpus`` judges them), the quarantine (one row per rejected input row, with a reason) and
    the row accounting.
    """
    rows = _mark_reasons(raw, params)
    candidates = rows[rows["reason"].isna()]
    labelled, unlabelled = candidates[candidates["label"] != ""], candidates[candidates["label"] == ""]
    duplicate = labelled.duplicated(subset=["text", "label"], keep="first")
    kept = _mark_rare_labels(rows, labelled[~duplicate], int(params["min_rows_per_label"]))
    # an unlabelled text that repeats a labelled one (or an earlier unlabelled one) adds nothing
    repeated = unlabelled["text"].duplicated(keep="first") | unlabelled["text"].isin(kept["text"])
    unlabelled = unlabelled[~repeated]

    quarantine = rows[rows["reason"].notna()][QUARANTINE_COLUMNS].reset_index(drop=True)
    duplicates = int(duplicate.sum() + repeated.sum())
    accounting = _row_accounting(len(raw), len(kept), len(unlabelled), quarantine, duplicates)
    kept = pd.concat([kept, unlabelled])
    examples = pd.DataFrame(
        {
            "example_id": kept["source_line"].astype("int64"),
            "text": kept["text"].astype(str),
            "label": kept["label"].astype(str),
        }
    ).reset_index(drop=True)
    examples["text_hash"] = examples["text"].map(text_hash).astype(str)
    return examples[EXAMPLE_COLUMNS], quarantine, accounting


def _hint(by_reason: dict[str, int]) -> str:
    """What to change for the most common quarantine reason ('' if none applies)."""
    if not by_reason:
        return ""
    main = max(sorted(by_reason), key=lambda reason: by_reason[reason])
    return f" {HINTS[main]}" if main in HINTS else ""


def check_corpus(
    validated_examples: pd.DataFrame, row_accounting: dict[str, Any], params: dict[str, Any]
) -> pd.DataFrame:
    """Stop with one line when too little of the corpus is usable; otherwise warn about any quarantine.

    Runs after the quarantine and row accounting are saved. Returns the examples unchanged.
    """
    rows_in, quarantined = row_accounting["rows_in"], row_accounting["quarantined"]
    by_reason = row_accounting["quarantined_by_reason"]
    limit = float(params["max_quarantined_share"])
    where = f" Rows and reasons: {QUARANTINE_FILE}."
    if validated_examples.empty:
        raise CorpusError(
            f"no usable rows: all {rows_in} rows were quarantined ({by_reason}).{_hint(by_reason)}{where}"
        )
    if not (validated_examples["label"] != "").any():
        raise CorpusError(
            f"no labelled rows: the {row_accounting['unlabelled']} usable rows all have an empty label, "
            f"and a classifier needs labelled rows; check ingest.label_column ({params['label_column']!r})"
        )
    if quarantined / rows_in > limit:
        raise CorpusError(
            f"{quarantined} of {rows_in} rows ({quarantined / rows_in:.0%}) were quarantined, more than "
            f"ingest.max_quarantined_share ({limit:.0%}): {by_reason}.{_hint(by_reason)}{where}"
        )
    labels = sorted(set(validated_examples["label"]) - {""})
    if len(labels) < 2:
        cause = f" after validation ({by_reason} quarantined)" if by_reason else ""
        raise CorpusError(
            f"only the label {labels[0]!r} is left{cause}; a classifier needs two or more."
            f"{_hint(by_reason)}{where}"
        )
    if quarantined:
        share = 100 * quarantined / rows_in
        logger.warning(
            "%d of %d rows (%.2f%%) quarantined, by reason: %s; see %s",
            *(quarantined, rows_in, share, by_reason, QUARANTINE_FILE),
        )
    return validated_examples
