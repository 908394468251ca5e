"""Train/dev/test splits of the validated examples: stratified by label, seeded, sized in rows, shares
or the smaller of both, checked first so an impossible or lopsided split is one clear error.

A label budget (``ingest.label_budget``) keeps the labels of that many train rows and turns the rest
into unlabelled texts (split ``unlabelled``: label ``""``, label id -1), beside the corpus's own rows
without a label. Dev and test stay the rows of the full split, so every budget is scored on the same
test rows; budgets are nested (the 1,000 labelled rows are inside the 2,000), because every budget
takes the first rows of one seeded, stratified order.
"""

import hashlib
import logging
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from text_distill.distill.data.corpus import CorpusError

logger = logging.getLogger(__name__)

SPLITS = ("train", "dev", "test")  # the labelled splits
UNLABELLED = "unlabelled"
"""The split of texts without a label (the corpus's own, and train or dev rows outside the label budget):
the teacher labels them for the distilled student; nothing learns from a label of theirs."""


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
    return splits


def nested_order(rows: pd.DataFrame, seed: int) -> pd.Index:
    """The rows' index in the order a label budget takes them: seeded, and stratified at every
    length (each label's rows spread evenly through the order, by rank over the label's size), so
    any first ``k`` rows are a stratified sample and a smaller budget is inside a larger one."""
    rows = rows.sort_values("example_id")
    key = pd.Series(np.random.default_rng(seed).random(len(rows)), index=rows.index)
    by_label = rows.assign(key=key).sort_values(["label", "key"]).groupby("label")
    priority = (by_label.cumcount() + 0.5) / by_label["label"].transform("size")
    return pd.DataFrame({"priority": priority, "key": key}).sort_values(["priority", "key"]).index


def _budget_error(message: str) -> CorpusError:
    return CorpusError(f"{message}; change ingest.label_budget in conf/base/parameters_ingest.yml")


def _budget_rows(value: Any, name: str, limit: int, budget: int | None = None) -> int:
    """``ingest.label_budget`` (rows) or ``ingest.budget_dev_size`` (rows, or a share of the budget)."""
    if isinstance(value, float) and budget is not None and value > 0:
        value = max(1, round(value * budget))
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _budget_error(f"ingest.{name} must be null or a number of rows >= 1, got {value!r}")
    if value > limit:
        raise _budget_error(f"ingest.{name} is {value} rows, more than the {limit} rows it is drawn from")
    return value


def _take_labelled(rows: pd.DataFrame, count: int, seed: int, name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The first ``count`` rows of ``nested_order`` (labels kept) and the others (labels dropped)."""
    order = nested_order(rows, seed)
    kept, dropped = rows.loc[order[:count]], rows.loc[order[count:]]
    missing = set(rows["label"]) - set(kept["label"])
    if missing:
        raise _budget_error(
            f"{count} labelled {name} rows cannot hold one row of each label ({len(missing)} labels, e.g. "
            f"{sorted(missing)[:3]}, get none)"
        )
    return kept, dropped


def apply_label_budget(
    train: pd.DataFrame, dev: pd.DataFrame, params: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Train and dev under ``ingest.label_budget`` (null: all their labels) and the rows whose labels
    it drops. ``ingest.budget_dev_size`` (null: dev as in the full split) shrinks dev to that many
    rows, or that share of the budget, drawn the same nested way."""
    budget, dev_size, seed = params.get("label_budget"), params.get("budget_dev_size"), int(params["seed"])
    if budget is None:
        if dev_size is not None:
            raise _budget_error("ingest.budget_dev_size needs ingest.label_budget")
        return train, dev, train.iloc[:0]
    budget = _budget_rows(budget, "label_budget", len(train))
    train, unlabelled = _take_labelled(train, budget, seed, "train")
    if dev_size is not None:
        dev, dropped = _take_labelled(
            dev, _budget_rows(dev_size, "budget_dev_size", len(dev), budget), seed, "dev"
        )
        unlabelled = pd.concat([unlabelled, dropped])
    return train, dev, unlabelled


def split_examples(
    examples: pd.DataFrame, params: dict[str, Any]
) -> tuple[pd.DataFrame, list[str], dict[str, Any]]:
    """Stratified, seeded train/dev/test split (optionally of a stratified sample of ``max_rows``),
    the label budget applied to train (and dev), and how many rows each split holds.

    Test is drawn first, then dev from the rest; their sizes are rows, shares or the smaller of both
    (``holdout_rows``), checked first so an impossible or lopsided split is one clear error. Rows the
    corpus holds without a label, and train rows outside the label budget, form the ``unlabelled``
    split: texts the teacher labels for the student, never a training label. Texts are unique after
    validation, so no text can land in two splits; this is checked anyway.
    """
    seed = int(params["seed"])
    without_label = examples["label"] == ""
    examples, corpus_unlabelled = examples[~without_label], examples[without_label]
    max_rows = params.get("max_rows")
    if max_rows and max_rows < len(examples):
        examples, _ = _stratified(examples, seed, train_size=int(max_rows))
    test_rows = holdout_rows(params["test_size"], len(examples), "test_size")
    dev_rows = holdout_rows(params["dev_size"], len(examples), "dev_size")
    _check_sizes(examples, dev_rows, test_rows, params)
    rest, test = _stratified(examples, seed, test_size=test_rows)
    train, dev = _stratified(rest, seed, test_size=dev_rows)
    label_names = sorted(examples["label"].unique().tolist())
    splits, report = _budgeted(
        {"train": train, "dev": dev, "test": test}, corpus_unlabelled, label_names, params
    )
    return splits, label_names, report


def _budgeted(
    parts: dict[str, pd.DataFrame], unlabelled: pd.DataFrame, label_names: list[str], params: dict[str, Any]
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The full split's ``parts`` under ``params.label_budget``, with the ``unlabelled`` rows, as one
    table (labelled splits, then the unlabelled split), and how many rows each holds."""
    full = {name: len(part) for name, part in parts.items()}
    train, dev, over_budget = apply_label_budget(parts["train"], parts["dev"], params)
    splits = _label_splits({"train": train, "dev": dev, "test": parts["test"]}, label_names)
    rest = pd.concat([over_budget.assign(label=""), unlabelled]).sort_values("example_id")
    splits = pd.concat([splits, rest.assign(split=UNLABELLED, label_id=-1)], ignore_index=True)
    if splits["text"].duplicated().any():
        raise CorpusError("a text appears in two splits; validation should have collapsed it")
    report = {
        "label_budget": params.get("label_budget"),
        "labelled": {"train": len(train), "dev": len(dev), "test": full["test"]},
        "labels_learnt_from": len(train) + len(dev),  # train fits, dev selects: both are labels paid for
        "unlabelled": {
            "train_over_budget": full["train"] - len(train),
            "dev_over_budget": full["dev"] - len(dev),
            "corpus_without_label": len(unlabelled),
        },
        "full_split": {"train": full["train"], "dev": full["dev"]},
    }
    logger.info("Split sizes: %s", splits["split"].value_counts().to_dict())
    logger.info("Labels: %s", report)
    return splits[["example_id", "split", "text", "label", "label_id", "text_hash"]], report


def examples_at_budget(
    examples: pd.DataFrame, split_report: dict[str, Any], params: dict[str, Any], budget: int
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The full split's ``examples`` as ``split_examples`` makes them under ``label_budget: budget``
    (the same rows labelled, dev and test unchanged), and their report: one point of a learning curve
    drawn from one ingest. The full split must hold every train label."""
    if split_report["label_budget"] is not None:
        raise CorpusError(
            f"the examples hold {split_report['labelled']['train']} of their train labels "
            f"(ingest.label_budget {split_report['label_budget']}); a learning curve draws its budgets "
            "from all of them: rerun `kedro run --pipeline ingest` with ingest.label_budget: null"
        )
    labelled = examples[examples["split"] != UNLABELLED]
    parts = {name: labelled[labelled["split"] == name].drop(columns=["split", "label_id"]) for name in SPLITS}
    label_names = sorted(labelled["label"].unique().tolist())
    unlabelled = examples[examples["split"] == UNLABELLED].drop(columns=["split", "label_id"])
    return _budgeted(parts, unlabelled, label_names, {**params, "label_budget": budget})


def hold_out_test(examples: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The train, dev and unlabelled rows (what every model is fitted and selected on, and every text
    the teacher labels for the students), the test rows (read by evaluation and export only), and
    the test texts' hashes alone (so the transfer set can drop a text equal to a test text without
    reading the test rows), as separate datasets: the graph shows which nodes can see test."""
    test = examples["split"] == "test"
    held_out = examples.loc[test, ["text_hash"]].reset_index(drop=True)
    return examples[~test].reset_index(drop=True), examples[test].reset_index(drop=True), held_out


def fingerprint_test_split(examples: pd.DataFrame) -> dict[str, Any]:
    """What identifies the test split of ``examples``: its row count and a SHA-256 over its sorted
    (label, text) pairs, the same whatever the rows' order or example ids. Two runs' test scores are
    comparable only when both match (the served model's ``champion`` alias, ``text_distill.champion``)."""
    test = examples.loc[examples["split"] == "test"]
    pairs = sorted(f"{label}\t{text}" for label, text in zip(test["label"], test["text"], strict=True))
    digest = hashlib.sha256("\n".join(pairs).encode("utf-8", "surrogatepass")).hexdigest()
    return {"rows": len(test), "sha256": digest}
