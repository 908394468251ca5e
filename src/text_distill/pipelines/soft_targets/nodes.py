"""Soft targets: the teacher's logits for the whole transfer set, through a content-addressed store.

The store keeps one row per (teacher fingerprint, exact teacher input text) and only grows: a run
scores only the texts the store lacks, so a rerun with the same teacher and data runs no teacher
forward pass, and a changed teacher never reads another teacher's rows. With a teacher ensemble
(multi_teacher) the target is the members' combined logits, each member's kept alongside.

``soft_targets`` (labelled examples) and ``transfer_targets`` (augmented and unlabelled rows) are
assembled from the store for the student.
"""

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import torch

from text_distill.distill.losses import combine_teacher_logits
from text_distill.distill.soft_target_store import (
    known_keys,
    lazy_partitions,
    lookup,
    plan_fill,
    store_key,
)
from text_distill.distill.soft_targets import SoftTargetMismatchError, soft_target_table
from text_distill.distill.teacher import TeacherClassifier

logger = logging.getLogger(__name__)

TRANSFER_TARGET_COLUMNS = ["source", "origin_id", "teacher_text", "words", "logits", "teacher_fingerprint"]


def teacher_scorer(
    members: list[TeacherClassifier], weights: list[float] | None, batch_size: int
) -> Callable[[list[str]], tuple[np.ndarray, np.ndarray | None]]:
    """Texts -> the target logits (an ensemble's combination) and each member's, if several."""

    def score(texts: list[str]) -> tuple[np.ndarray, np.ndarray | None]:
        logits = [member.predict_logits(texts, batch_size=batch_size) for member in members]
        if len(members) == 1:
            return logits[0], None
        combined = combine_teacher_logits([torch.from_numpy(each) for each in logits], weights).numpy()
        return combined, np.stack(logits, axis=1)

    return score


def fill_soft_target_store(
    teacher: TeacherClassifier,
    ensemble: dict[str, TeacherClassifier],
    teacher_fingerprint: dict[str, Any],
    transfer_set: dict[str, Callable[[], pd.DataFrame]],
    store_keys: dict[str, Callable[[], pd.DataFrame]],
    params: dict[str, Any],
) -> tuple[dict[str, Callable[[], pd.DataFrame]], dict[str, Any], dict[str, dict[str, float]]]:
    """New store partitions for the transfer-set texts the store lacks (scored as they are saved),
    the labelling report and its MLflow metrics. ``store_keys`` is the store read key column only."""
    torch.set_num_threads(int(params["threads"]))
    members = [teacher, *ensemble.values()]
    if len(members) != len(teacher_fingerprint["members"]):
        raise SoftTargetMismatchError(
            f"{len(members)} teachers but the fingerprint names {len(teacher_fingerprint['members'])}: "
            "rerun `kedro run --pipeline teacher`"
        )
    fingerprint = teacher_fingerprint["fingerprint"]
    known = known_keys(store_keys, fingerprint)
    stored_before = len(known)
    plan = plan_fill(transfer_set.values(), "teacher_text", fingerprint, known, group_column="source")
    report = {
        "teacher_fingerprint": fingerprint,
        "teachers": len(members),
        "transfer_rows": plan.wanted_rows,
        "rows_by_source": plan.rows_by_group,
        "store_rows_before": stored_before,
        "store_hits": plan.store_hits,
        "repeated_texts": plan.repeated,
        "teacher_forward_texts": plan.to_score,
        "teacher_forward_passes": plan.to_score * len(members),
        "new_partitions": len(plan.misses),
    }
    logger.info(
        "Soft-target store: %d transfer rows, %d already stored, %d repeats; teacher forward passes: "
        "%d texts x %d teacher(s)",
        plan.wanted_rows,
        plan.store_hits,
        plan.repeated,
        plan.to_score,
        len(members),
    )
    metrics = {
        f"soft_targets_{key}": {"value": float(report[key]), "step": 0}
        for key in ("transfer_rows", "store_hits", "teacher_forward_texts", "teacher_forward_passes")
    }
    score = teacher_scorer(members, teacher_fingerprint["weights"], int(params["batch_size"]))
    return lazy_partitions(plan, "teacher_text", score), report, metrics


def assemble_soft_targets(
    examples: pd.DataFrame,
    transfer_set: dict[str, Callable[[], pd.DataFrame]],
    soft_target_store: dict[str, Callable[[], pd.DataFrame]],
    teacher_fingerprint: dict[str, Any],
    teacher_labelling: dict[str, Any],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The store's logits for the labelled examples (``soft_targets``, one row per example) and for
    the augmented and unlabelled rows (``transfer_targets``)."""
    fingerprint = teacher_fingerprint["fingerprint"]
    if teacher_labelling["teacher_fingerprint"] != fingerprint:
        raise SoftTargetMismatchError(
            "the soft-target store was filled for another teacher: rerun `kedro run --pipeline soft_targets`"
        )
    extra = pd.concat(
        [frame[frame["source"] != "labelled"] for frame in (load() for load in transfer_set.values())],
        ignore_index=True,
    )
    keys = [store_key(fingerprint, text) for text in examples["text"]]
    extra_keys = [store_key(fingerprint, text) for text in extra["teacher_text"]]
    multi = teacher_labelling["teachers"] > 1
    columns = ["logits", "member_logits"] if multi else ["logits"]
    found = lookup(soft_target_store, fingerprint, [*keys, *extra_keys], columns)
    missing = len(set(keys).union(extra_keys).difference(found.index))
    if missing:
        raise SoftTargetMismatchError(
            f"the soft-target store lacks {missing} texts of this transfer set: rerun "
            "`kedro run --pipeline soft_targets`"
        )
    rows = found.loc[keys]
    member_logits = None
    if multi:
        member_logits = np.stack(rows["member_logits"].to_numpy()).reshape(
            len(rows), teacher_labelling["teachers"], -1
        )
    soft_targets = soft_target_table(
        examples, np.stack(rows["logits"].to_numpy()), fingerprint, member_logits
    )
    transfer_targets = extra.assign(
        logits=found.loc[extra_keys, "logits"].to_numpy() if len(extra) else [],
        teacher_fingerprint=fingerprint,
    )[TRANSFER_TARGET_COLUMNS]
    logger.info(
        "Soft targets: %d labelled examples, %d transfer rows (%s)",
        len(soft_targets),
        len(transfer_targets),
        transfer_targets["source"].value_counts().to_dict(),
    )
    return soft_targets, transfer_targets
