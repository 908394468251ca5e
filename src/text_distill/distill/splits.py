"""Train/dev/test splits of the validated examples: stratified by label, seeded, sized in rows, shares
or the smaller of both, checked first so an impossible or lopsided split is one clear error."""

import logging
from typing import Any

import pandas as pd
from sklearn.model_selection import train_test_split

from text_distill.distill.corpus import CorpusError

logger = logging.getLogger(__name__)


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
