"""Baselines: what a practitioner builds in a minute, fitted in the same run as the students, so every
report shows whether distillation beat them."""

from typing import Any

import pandas as pd

from text_distill.distill.models.baselines import BaselineClassifier, baseline_spec, fit_baseline


def fit_reference_baseline(
    name: str,
    examples: pd.DataFrame,
    word_segmenter: dict[str, str],
    label_names: list[str],
    params: dict[str, Any],
) -> tuple[BaselineClassifier, dict[str, Any]]:
    """The registered baseline ``name`` fitted on the train split, ``C`` chosen on dev accuracy.
    The test split is never read here."""
    train, dev = (examples[examples["split"] == split] for split in ("train", "dev"))
    model, log = fit_baseline(
        baseline_spec(name),
        word_segmenter["segmenter"],
        (train["text"].tolist(), train["label_id"].to_numpy()),
        (dev["text"].tolist(), dev["label_id"].to_numpy()),
        label_names,
        params["c_grid"],
        int(params["seed"]),
    )
    return model, {"baseline": name, **log}
