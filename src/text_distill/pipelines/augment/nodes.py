"""Augment: the transfer set, i.e. every text the teacher labels. The labelled examples (all splits:
dev and test logits feed the evaluation), Tang et al.'s augmented copies of the train split, an
optional unlabelled corpus and the opt-in packaged news (``augment.unlabelled.news``), as Parquet
partitions built one at a time (``distill.data.transfer_set``).

The copies are a default of the few-labels regime: ``augment.n_iter`` with every label (0: none) and
``augment.budget_n_iter`` under a label budget (the split report's ``label_budget``, a learning
curve's budgets included), as their gain was measured at 5,000 labels and their cost at 84,970.

Only the train split is augmented, and only words of the train and unlabelled texts are drawn from;
unlabelled texts equal to any labelled example are dropped, so nothing from dev or test reaches the
student.
"""

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pandas as pd

from text_distill.distill.data.augment import AugmentConfig
from text_distill.distill.data.transfer_set import (
    augmented_partitions,
    held_out,
    labelled_partitions,
    named_partitions,
    read_news,
    read_unlabelled,
    unlabelled_partitions,
)
from text_distill.distill.models.teacher import PretrainedEncoder, mask_token

logger = logging.getLogger(__name__)


def build_transfer_set(
    examples: pd.DataFrame,
    test_hashes: pd.DataFrame,
    segmented: pd.DataFrame,
    unlabelled_corpus: str,
    teacher_base: PretrainedEncoder,
    split_report: dict[str, Any],
    params: dict[str, Any],
    **news: Callable[[], list[str]],
) -> tuple[dict[str, Callable[[], pd.DataFrame]], dict[str, Any]]:
    """The transfer set as lazily built partitions of at most ``chunk_rows`` rows, and a report:
    ``examples`` (train, dev and unlabelled rows), copies of train (as many per row as
    ``copies_setting`` picks for the split report's label budget), and the unlabelled corpora,
    none equal to a dev or test text (``test_hashes``: the test texts' hashes, never the test rows).
    ``news``: the packaged news sources by name (each a function that reads its texts: one whose cap
    in ``unlabelled.news`` is 0 is never read, so its package need not be installed)."""
    label_budget = split_report["label_budget"]
    copies = copies_setting(params, label_budget)
    config = replace(AugmentConfig.from_params(params), n_iter=int(params[copies]))
    chunk_rows, mask = int(params["chunk_rows"]), mask_token(teacher_base)
    labelled_hashes = {
        **dict(zip(examples["text_hash"], examples["split"], strict=True)),
        **dict.fromkeys(test_hashes["text_hash"], "test"),
    }
    unlabelled, unlabelled_counts = read_unlabelled(unlabelled_corpus, labelled_hashes, params["unlabelled"])
    news_texts, news_counts = read_news(
        news, params["unlabelled"].get("news", {}), labelled_hashes, kept_before=unlabelled
    )
    partitions = named_partitions(
        labelled_partitions(examples, chunk_rows),
        augmented_partitions(examples, segmented, config, mask, chunk_rows, held_out(labelled_hashes)),
        unlabelled_partitions(unlabelled, chunk_rows),
        *(unlabelled_partitions(texts, chunk_rows, name) for name, texts in news_texts.items()),
    )
    train_rows = int((examples["split"] == "train").sum())
    report = {
        "labelled_rows": len(examples),
        "augmented_from_train_rows": train_rows if config.n_iter > 0 else 0,
        "augment": {**config.__dict__},
        "n_iter_from": f"augment.{copies}",
        "label_budget": label_budget,
        "teacher_mask_token": mask,
        "max_augmented_rows": train_rows * config.n_iter,
        "unlabelled": unlabelled_counts,
        "news": news_counts,
        "partitions": len(partitions),
    }
    logger.info("Transfer set: %s", report)
    return partitions, report


def copies_setting(params: dict[str, Any], label_budget: int | None) -> str:
    """The ``augment`` key that sets Tang et al.'s copies per train row: ``budget_n_iter`` under a label
    budget (unless it is null), else ``n_iter``."""
    return "budget_n_iter" if label_budget is not None and params["budget_n_iter"] is not None else "n_iter"
