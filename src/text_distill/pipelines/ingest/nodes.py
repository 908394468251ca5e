"""Ingest: raw corpus -> validated, de-duplicated rows + quarantine + row accounting -> checks -> splits.

Every input row ends in exactly one place: kept, quarantined (with a reason), or collapsed as an exact
duplicate of a kept row; ``rows_in == kept + quarantined + duplicates_collapsed`` is checked. The
quarantine and the row accounting are saved before ``check_corpus`` may stop the run, so a rejected
corpus still leaves the evidence of why.
"""

import csv
import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pandas as pd
from sklearn.model_selection import train_test_split

from text_distill.distill.text import normalise_text, text_hash
from text_distill.errors import TextDistillError

logger = logging.getLogger(__name__)

RAW_COLUMNS = ["source_line", "raw_label", "raw_text", "problem"]
QUARANTINE_COLUMNS = ["source_line", "raw_label", "raw_text", "reason", "detail"]
EXAMPLE_COLUMNS = ["example_id", "text", "label", "text_hash"]
BOM = "\ufeff"
QUARANTINE_FILE = "the quarantine dataset (data/02_intermediate/quarantine.csv)"
HINTS = {
    "undecodable": "Most rows are not valid in the configured encoding: set corpus_encoding in "
    "conf/base/globals.yml.",
    "malformed_row": "Check ingest.format, ingest.has_header and ingest.column_names against the file.",
    "missing_label": "Check ingest.label_column.",
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
                "undecodable: bytes not valid in the configured corpus_encoding (conf/base/globals.yml)"
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
    if row["label"] == "":
        return "missing_label", "the label is empty or absent"
    if row["text"] == "":
        return "empty_text", "the text is empty or whitespace only"
    if len(row["text"]) > max_chars:
        return "too_long", f"the text has {len(row['text'])} characters; ingest.max_chars is {max_chars}"
    if allowed_labels is not None and row["label"] not in allowed_labels:
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
    candidates = rows[rows["reason"].isna()]
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


def validate_corpus(
    raw: pd.DataFrame, params: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Normalise texts and labels, quarantine bad rows, collapse exact duplicates.

    Returns the kept rows (possibly none: ``check_corpus`` judges them), the quarantine (one row per
    rejected input row, with a reason) and the row accounting.
    """
    rows = _mark_reasons(raw, params)
    candidates = rows[rows["reason"].isna()]
    duplicate = candidates.duplicated(subset=["text", "label"], keep="first")
    kept = _mark_rare_labels(rows, candidates[~duplicate], int(params["min_rows_per_label"]))

    quarantine = rows[rows["reason"].notna()][QUARANTINE_COLUMNS].reset_index(drop=True)
    by_reason = {str(k): int(v) for k, v in quarantine["reason"].value_counts().sort_index().items()}
    accounting = {
        "rows_in": int(len(raw)),
        "kept": int(len(kept)),
        "quarantined": int(len(quarantine)),
        "duplicates_collapsed": int(duplicate.sum()),
        "quarantined_by_reason": by_reason,
    }
    if (
        accounting["rows_in"]
        != accounting["kept"] + accounting["quarantined"] + accounting["duplicates_collapsed"]
    ):
        raise AssertionError(f"row accounting does not add up: {accounting}")
    logger.info("Row accounting: %s", accounting)
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
    if quarantined / rows_in > limit:
        raise CorpusError(
            f"{quarantined} of {rows_in} rows ({quarantined / rows_in:.0%}) were quarantined, more than "
            f"ingest.max_quarantined_share ({limit:.0%}): {by_reason}.{_hint(by_reason)}{where}"
        )
    labels = sorted(validated_examples["label"].unique())
    if len(labels) < 2:
        cause = f" after validation ({by_reason} quarantined)" if by_reason else ""
        raise CorpusError(
            f"only the label {labels[0]!r} is left{cause}; a classifier needs two or more."
            f"{_hint(by_reason)}{where}"
        )
    if quarantined:
        logger.warning(
            "%d of %d rows (%.2f%%) quarantined, by reason: %s; see %s",
            quarantined,
            rows_in,
            100 * quarantined / rows_in,
            by_reason,
            QUARANTINE_FILE,
        )
    return validated_examples


def _size_error(name: str, value: Any) -> CorpusError:
    return CorpusError(
        f"ingest.{name} must be a row count (int >= 1), a share of the rows (float between 0 and 1) "
        f"or {{rows: N, share: F}} (the smaller of the two); got {value!r}"
    )


def holdout_rows(value: Any, n_rows: int, name: str) -> int:
    """``ingest.dev_size`` / ``ingest.test_size`` as a row count out of ``n_rows``.

    An int is rows, a float in (0, 1) a share of ``n_rows`` (rounded down), ``{rows, share}`` the
    smaller of the two.
    """
    if isinstance(value, dict):
        if not value or set(value) - {"rows", "share"}:
            raise _size_error(name, value)
        return min(holdout_rows(part, n_rows, name) for part in value.values())
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    if isinstance(value, float) and 0 < value < 1:
        return int(value * n_rows)
    raise _size_error(name, value)


def _check_sizes(examples: pd.DataFrame, dev: int, test: int, params: dict[str, Any]) -> None:
    """One-line errors for a split that cannot be made or leaves train too small."""
    n_rows, counts = len(examples), examples["label"].value_counts()
    change = "change ingest.dev_size / ingest.test_size in conf/base/parameters_ingest.yml"
    train, min_share = n_rows - dev - test, float(params["min_train_share"])
    if train < 1:
        raise CorpusError(
            f"dev ({dev} rows) and test ({test} rows) need more than the {n_rows} rows "
            f"to split: {change} (a share such as 0.1 fits any corpus)"
        )
    if train / n_rows < min_share:
        raise CorpusError(
            f"train would get {train} of {n_rows} rows ({train / n_rows:.0%}), below "
            f"ingest.min_train_share ({min_share:.0%}): {change}"
        )
    for name, size in (("dev", dev), ("test", test), ("train", train)):
        if size < len(counts):
            raise CorpusError(
                f"the {name} split ({size} rows) cannot hold one row of each of the "
                f"{len(counts)} labels: {change}"
            )
    if counts.min() < 3:
        raise CorpusError(
            f"label {counts.idxmin()!r} has {counts.min()} rows, too few to stratify "
            "train, dev and test: raise ingest.min_rows_per_label to quarantine it"
        )


def _stratified(rows: pd.DataFrame, seed: int, **size: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``train_test_split`` stratified by label; its refusal becomes one line naming the parameters."""
    try:
        return train_test_split(rows, stratify=rows["label"], random_state=seed, **size)
    except ValueError as exc:
        detail = " ".join(str(exc).split())
        raise CorpusError(
            f"cannot split {len(rows)} rows stratified by label ({detail}): change ingest.dev_size / "
            "ingest.test_size / ingest.max_rows or raise ingest.min_rows_per_label"
        ) from exc


def _label_splits(parts: dict[str, pd.DataFrame], label_names: list[str]) -> pd.DataFrame:
    """The splits as one table with ``split`` and ``label_id``; every label must reach every split."""
    for name, part in parts.items():
        missing = set(label_names) - set(part["label"])
        if missing:
            raise CorpusError(
                f"labels {sorted(missing)} have no rows in the {name} split; raise "
                "ingest.min_rows_per_label (rarer labels are quarantined) or ingest.dev_size / "
                "ingest.test_size"
            )
    splits = pd.concat(
        [part.sort_values("example_id").assign(split=name) for name, part in parts.items()],
        ignore_index=True,
    )
    splits["label_id"] = splits["label"].map({name: i for i, name in enumerate(label_names)})
    if splits["text"].duplicated().any():
        raise CorpusError("a text appears in two splits; validation should have collapsed it")
    return splits


def split_examples(examples: pd.DataFrame, params: dict[str, Any]) -> tuple[pd.DataFrame, list[str]]:
    """Stratified, seeded train/dev/test split (optionally of a stratified sample of ``max_rows``).

    Test is drawn first, then dev from the rest; their sizes are rows, shares or the smaller of both
    (``holdout_rows``), checked first so an impossible or lopsided split is one clear error. Texts are
    unique after validation, so no text can land in two splits; this is checked anyway.
    """
    seed = int(params["seed"])
    max_rows = params.get("max_rows")
    if max_rows and max_rows < len(examples):
        examples, _ = _stratified(examples, seed, train_size=int(max_rows))
    test_rows = holdout_rows(params["test_size"], len(examples), "test_size")
    dev_rows = holdout_rows(params["dev_size"], len(examples), "dev_size")
    _check_sizes(examples, dev_rows, test_rows, params)
    rest, test = _stratified(examples, seed, test_size=test_rows)
    train, dev = _stratified(rest, seed, test_size=dev_rows)
    label_names = sorted(examples["label"].unique().tolist())
    splits = _label_splits({"train": train, "dev": dev, "test": test}, label_names)
    logger.info("Split sizes: %s", splits["split"].value_counts().to_dict())
    return splits[["example_id", "split", "text", "label", "label_id", "text_hash"]], label_names


def hold_out_test(examples: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The train and dev rows (what every model is fitted and selected on) and the test rows (read by
    evaluation and export only), as separate datasets: the graph shows which nodes can see test."""
    test = examples["split"] == "test"
    return examples[~test].reset_index(drop=True), examples[test].reset_index(drop=True)
