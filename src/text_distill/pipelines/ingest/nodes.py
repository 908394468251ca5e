"""Ingest: raw corpus -> validated, de-duplicated rows + quarantine + row accounting -> splits.

Every input row ends in exactly one place: kept, quarantined (with a reason), or collapsed as an exact
duplicate of a kept row; ``rows_in == kept + quarantined + duplicates_collapsed`` is checked.
"""

import csv
import io
import json
import logging
from typing import Any

import pandas as pd
from sklearn.model_selection import train_test_split

from text_distill.distill.text import normalise_text, text_hash
from text_distill.errors import TextDistillError

logger = logging.getLogger(__name__)

RAW_COLUMNS = ["source_line", "raw_label", "raw_text", "problem"]
QUARANTINE_COLUMNS = ["source_line", "raw_label", "raw_text", "reason", "detail"]


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
                "undecodable: bytes not valid in the configured corpus_encoding (conf/base/globals.yml)"
            )
    return row


def _rows_from_delimited(source: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    delimiter = "\t" if params["format"] == "tsv" else ","
    quoting = csv.QUOTE_NONE if params["format"] == "tsv" else csv.QUOTE_MINIMAL
    reader = csv.reader(io.StringIO(source, newline=""), delimiter=delimiter, quoting=quoting)
    if params["has_header"]:
        header = next(reader, None)
        if header is None:
            raise CorpusError("corpus source has a header setting but no lines at all")
        columns = [name.strip().lstrip("\ufeff") for name in header]
    else:
        columns = list(params["column_names"])
    for wanted in (params["text_column"], params["label_column"]):
        if wanted not in columns:
            raise CorpusError(
                f"column {wanted!r} not found; the corpus has columns {columns}. "
                "Set ingest.text_column / ingest.label_column (or ingest.column_names for files "
                "without a header) in conf/base/parameters_ingest.yml."
            )
    text_at, label_at = columns.index(params["text_column"]), columns.index(params["label_column"])
    rows = []
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

    Rows that cannot be parsed are kept with a ``problem`` so validation can quarantine them.
    """
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


def _reason(row: pd.Series, allowed_labels: set[str] | None) -> tuple[str, str] | None:
    if isinstance(row["problem"], str):
        reason, _, detail = row["problem"].partition(": ")
        return reason, detail
    if row["label"] == "":
        return "missing_label", "the label is empty or absent"
    if row["text"] == "":
        return "empty_text", "the text is empty or whitespace only"
    if allowed_labels is not None and row["label"] not in allowed_labels:
        return "unknown_label", f"label {row['label']!r} is not in ingest.labels"
    return None


def validate_corpus(
    raw: pd.DataFrame, params: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Normalise texts and labels, quarantine bad rows, collapse exact duplicates.

    Returns the kept rows, the quarantine (one row per rejected input row, with a reason) and the
    row accounting.
    """
    rows = raw.copy()
    rows["text"] = rows["raw_text"].fillna("").map(normalise_text)
    rows["label"] = rows["raw_label"].fillna("").map(normalise_text)
    allowed = set(params["labels"]) if params.get("labels") else None
    reasons = rows.apply(lambda row: _reason(row, allowed), axis=1)
    rows["reason"] = reasons.map(lambda r: r[0] if r else None)
    rows["detail"] = reasons.map(lambda r: r[1] if r else None)

    candidates = rows[rows["reason"].isna()]
    labels_per_text = candidates.groupby("text")["label"].nunique()
    conflicting = candidates["text"].isin(labels_per_text[labels_per_text > 1].index)
    rows.loc[conflicting[conflicting].index, ["reason", "detail"]] = [
        "conflicting_labels",
        "the same text appears with different labels",
    ]

    candidates = rows[rows["reason"].isna()]
    duplicate = candidates.duplicated(subset=["text", "label"], keep="first")
    kept = candidates[~duplicate]

    label_counts = kept["label"].value_counts()
    minimum = int(params["min_rows_per_label"])
    rare = kept["label"].map(label_counts) < minimum
    rows.loc[rare[rare].index, "reason"] = "rare_label"
    rows.loc[rare[rare].index, "detail"] = kept.loc[rare, "label"].map(
        lambda label: (
            f"label {label!r} has {label_counts[label]} rows; train, dev and test need "
            f"at least {minimum} (ingest.min_rows_per_label)"
        )
    )
    kept = kept[~rare]

    quarantine = rows[rows["reason"].notna()][QUARANTINE_COLUMNS].reset_index(drop=True)
    by_reason = {str(k): int(v) for k, v in quarantine["reason"].value_counts().sort_index().items()}
    accounting = {
        "rows_in": int(len(raw)),
        "kept": int(len(kept)),
        "quarantined": int(len(quarantine)),
        "duplicates_collapsed": int(duplicate.sum()),
        "quarantined_by_reason": by_reason,
    }
    assert accounting["rows_in"] == (
        accounting["kept"] + accounting["quarantined"] + accounting["duplicates_collapsed"]
    ), accounting
    logger.info("Row accounting: %s", accounting)

    if kept.empty:
        hint = ""
        if by_reason.get("undecodable", 0) > len(raw) / 2:
            hint = (
                " Most rows are not valid in the configured encoding: "
                "set corpus_encoding in conf/base/globals.yml."
            )
        raise CorpusError(f"no usable rows: every row was quarantined ({by_reason}).{hint}")
    examples = pd.DataFrame(
        {
            "example_id": kept["source_line"].astype("int64"),
            "text": kept["text"],
            "label": kept["label"],
        }
    ).reset_index(drop=True)
    examples["text_hash"] = examples["text"].map(text_hash)
    return examples, quarantine, accounting


def _holdout(rows: pd.DataFrame, size: float | int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rest, held = train_test_split(rows, test_size=size, stratify=rows["label"], random_state=seed)
    return rest, held


def split_examples(examples: pd.DataFrame, params: dict[str, Any]) -> tuple[pd.DataFrame, list[str]]:
    """Stratified, seeded train/dev/test split (optionally of a stratified sample).

    Texts are unique after validation, so no text can land in two splits; this is checked anyway.
    """
    seed = int(params["seed"])
    max_rows = params.get("max_rows")
    if max_rows and max_rows < len(examples):
        examples, _ = train_test_split(
            examples, train_size=int(max_rows), stratify=examples["label"], random_state=seed
        )
    rest, test = _holdout(examples, params["test_size"], seed)
    train, dev = _holdout(rest, params["dev_size"], seed)
    label_names = sorted(examples["label"].unique().tolist())
    parts = []
    for name, part in (("train", train), ("dev", dev), ("test", test)):
        part = part.sort_values("example_id").assign(split=name)
        missing = set(label_names) - set(part["label"])
        if missing:
            raise CorpusError(
                f"labels {sorted(missing)} have no rows in the {name} split; raise "
                "ingest.min_rows_per_label or the split sizes"
            )
        parts.append(part)
    splits = pd.concat(parts, ignore_index=True)
    splits["label_id"] = splits["label"].map({name: i for i, name in enumerate(label_names)})
    if splits["text"].duplicated().any():
        raise CorpusError("a text appears in two splits; validation should have collapsed it")
    logger.info("Split sizes: %s", splits["split"].value_counts().to_dict())
    return splits[["example_id", "split", "text", "label", "label_id", "text_hash"]], label_names
