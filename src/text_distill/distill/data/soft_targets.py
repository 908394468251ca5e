"""Cached teacher logits: one row per example, tied to the teacher that produced them."""

from collections.abc import Sequence

import numpy as np
import pandas as pd

from text_distill.errors import TextDistillError

COLUMNS = ["example_id", "split", "text_hash", "logits", "teacher_fingerprint"]

# The command each refusal names. Each reruns every stage its cause made stale, so following it never
# ends in the same refusal (tests/test_rerun_advice.py checks them against the pipeline registry and
# runs DATA_CHANGED_ADVICE after a change of split).
# The examples changed (another corpus, split seed or sample): everything that reads them is stale,
# the teacher fine-tuned on the old train split included; the second command keeps that teacher.
DATA_CHANGED_ADVICE = (
    "`kedro run --pipeline distill --from-inputs examples` (or, keeping the current teacher, "
    "`kedro run --pipeline distill --from-nodes segment.segment_examples`)"
)
# The teacher changed: the soft-target stage looks its logits up in the store (or scores them).
TEACHER_CHANGED_ADVICE = "`kedro run --pipeline soft_targets`"


class SoftTargetMismatchError(TextDistillError, ValueError):
    """The cached logits do not belong to this teacher or this data."""


def soft_target_table(
    examples: pd.DataFrame, logits: np.ndarray, fingerprint: str, member_logits: np.ndarray | None = None
) -> pd.DataFrame:
    """The cache table for ``examples`` (same order as ``logits``).

    With several teachers, ``logits`` is their combination (the target) and ``member_logits``
    ``(examples, teachers, labels)`` keeps each teacher's own, stored flat per row.
    """
    table = pd.DataFrame(
        {
            "example_id": examples["example_id"].to_numpy(),
            "split": examples["split"].to_numpy(),
            "text_hash": examples["text_hash"].to_numpy(),
            "logits": list(logits.astype(np.float32)),
            "teacher_fingerprint": fingerprint,
        }
    )[COLUMNS]
    if member_logits is not None:
        table["member_logits"] = list(member_logits.reshape(len(table), -1).astype(np.float32))
    return table


def check_soft_targets(soft_targets: pd.DataFrame, examples: pd.DataFrame, fingerprint: str) -> None:
    """Refuse a cache from another teacher, or one whose examples differ from ``examples``."""
    check_teacher(soft_targets, fingerprint)
    check_soft_target_rows(soft_targets, examples)


def check_teacher(soft_targets: pd.DataFrame, fingerprint: str) -> None:
    """Refuse labelled-example logits made by another teacher than ``fingerprint``'s."""
    _refuse_other_teachers(soft_targets, fingerprint, "soft-target cache was")


def check_soft_target_rows(soft_targets: pd.DataFrame, examples: pd.DataFrame) -> None:
    """Refuse a cache whose examples differ from ``examples`` (missing ones, changed texts). Which
    teacher made it is checked once, where the targets are read into a run (``hooks``)."""
    cached = soft_targets.set_index("example_id")["text_hash"]
    wanted = examples.set_index("example_id")["text_hash"]
    missing = wanted.index.difference(cached.index)
    if len(missing):
        raise SoftTargetMismatchError(
            f"{len(missing)} examples have no cached logits (e.g. ids {missing[:5].tolist()}); the data "
            f"changed since the soft targets were made: run {DATA_CHANGED_ADVICE}"
        )
    changed = (cached.loc[wanted.index] != wanted).sum()
    if changed:
        raise SoftTargetMismatchError(
            f"{changed} cached examples have a different text than the current data: run "
            f"{DATA_CHANGED_ADVICE}"
        )


def check_transfer_targets(transfer_targets: pd.DataFrame, fingerprint: str) -> None:
    """Refuse augmented or unlabelled rows labelled by another teacher (no rows: nothing to refuse)."""
    _refuse_other_teachers(transfer_targets, fingerprint, "transfer-set logits were")


def _refuse_other_teachers(table: pd.DataFrame, fingerprint: str, what_was: str) -> None:
    """``what_was``: the subject and its verb (``"soft-target cache was"``)."""
    found = set(table["teacher_fingerprint"].unique())
    if found - {fingerprint}:
        raise SoftTargetMismatchError(
            f"the {what_was} made by teacher {sorted(f[:12] for f in found)}, but the current "
            f"teacher is {fingerprint[:12]}; rerun {TEACHER_CHANGED_ADVICE}"
        )


def logits_for(soft_targets: pd.DataFrame, example_ids: Sequence[int], column: str = "logits") -> np.ndarray:
    """Cached logits stacked in the order of ``example_ids`` (``column="member_logits"``: each
    teacher's own, flat per row)."""
    by_id = soft_targets.set_index("example_id")[column]
    return np.stack(by_id.loc[list(example_ids)].to_numpy()).astype(np.float32)
