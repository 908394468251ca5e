"""Raw texts in, a label and per-class probabilities out: what the served model and batch predict do.

Every input row gets an output row, in order. A row that cannot be scored gets no label and a
``status`` saying why, instead of being dropped or failing the whole request:

- ``ok``: scored;
- ``truncated``: longer than ``max_chars`` after normalisation, scored on its first ``max_chars``
  characters (the student reads at most ``max_tokens`` tokens anyway);
- ``empty_text``: nothing left after normalisation (empty, whitespace or zero-width characters only);
- ``missing_text``: null;
- ``not_text``: a value that is not a string (a number, a list).

Where a row has no label its label and probabilities are null (None), so JSON answers stay valid.
The answer's columns (``label``, ``probability``, ``prob_<label>``, ``status``) are never taken from
the input: a table that already has one is refused (a user's gold ``label`` column would be lost).
"""

from collections.abc import Callable

import numpy as np
import pandas as pd
import torch

from text_distill.distill.data.text import normalise_text
from text_distill.distill.models.student import StudentClassifier
from text_distill.errors import TextDistillError

TEXT_COLUMN = "text"
STATUS_COLUMN = "status"
OUTPUT_COLUMNS = ("label", "probability", STATUS_COLUMN)
PROBABILITY_PREFIX = "prob_"
SCORED = ("ok", "truncated")


class MissingTextColumnError(TextDistillError):
    """The texts to predict have no ``text`` column."""


class OutputColumnClashError(TextDistillError):
    """The texts to predict have a column the predictions would overwrite."""


def check_no_output_columns(columns: pd.Index) -> None:
    """Refuse input columns named like an output column (``label``, ``probability``, ``status``,
    ``prob_*``): the predictions would overwrite them."""
    clashing = [
        str(name) for name in columns if name in OUTPUT_COLUMNS or str(name).startswith(PROBABILITY_PREFIX)
    ]
    if clashing:
        raise OutputColumnClashError(
            f"the texts to predict have column(s) {clashing}, which the predictions would overwrite "
            f"(they add label, probability, {PROBABILITY_PREFIX}<label> and status): rename them"
        )


def screen_texts(texts: pd.DataFrame, max_chars: int) -> pd.DataFrame:
    """``texts`` with its ``text`` column normalised (NFKC, whitespace) and cut to ``max_chars``,
    and a ``status`` per row."""
    if TEXT_COLUMN not in texts.columns:
        raise MissingTextColumnError(
            f"the texts to predict need a {TEXT_COLUMN!r} column; got columns {list(texts.columns)}"
        )
    check_no_output_columns(texts.columns)
    statuses, normalised = [], []
    for value in texts[TEXT_COLUMN]:
        text = normalise_text(value) if isinstance(value, str) else None
        if text is None:
            null = pd.api.types.is_scalar(value) and pd.isna(value)
            statuses.append("missing_text" if null else "not_text")
        elif not text:
            statuses.append("empty_text")
        else:
            statuses.append("truncated" if len(text) > max_chars else "ok")
        normalised.append(text[:max_chars] if text else text)
    screened = texts.reset_index(drop=True).copy()
    screened[TEXT_COLUMN] = pd.Series(normalised, dtype=object)
    screened[STATUS_COLUMN] = statuses
    return screened


def label_texts(
    screened: pd.DataFrame,
    student: StudentClassifier,
    batch_size: int,
    network: Callable[[torch.Tensor, torch.Tensor], np.ndarray] | None = None,
) -> pd.DataFrame:
    """The label, its probability and every class's probability (``prob_<label>``) for each screened
    row; the other input columns (an id, say) pass through, the text itself does not."""
    scored = screened[STATUS_COLUMN].isin(SCORED).to_numpy()
    texts = screened.loc[scored, TEXT_COLUMN].tolist()
    logits = student.predict_logits(texts, batch_size=batch_size, network=network)
    scored_probabilities = torch.softmax(torch.from_numpy(logits).double(), dim=-1).numpy()
    probabilities = np.full((len(screened), len(student.label_names)), np.nan)
    probabilities[scored] = scored_probabilities
    labels = np.full(len(screened), None, dtype=object)
    labels[scored] = np.asarray(student.label_names, dtype=object)[logits.argmax(axis=1)]
    best = np.full(len(screened), np.nan)
    best[scored] = scored_probabilities.max(axis=1, initial=0.0)
    out = screened.drop(columns=[TEXT_COLUMN, STATUS_COLUMN])
    out["label"] = labels
    out["probability"] = best
    for index, name in enumerate(student.label_names):
        out[f"prob_{name}"] = probabilities[:, index]
    out[STATUS_COLUMN] = screened[STATUS_COLUMN].to_numpy()
    return out.astype(object).where(out.notna(), None)
