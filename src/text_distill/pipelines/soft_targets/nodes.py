"""Soft targets: the teacher's logits for the whole transfer set, through a content-addressed store.

The store keeps one row per (teacher fingerprint, exact teacher input text) and only grows: a run
scores only the texts the store lacks, so a rerun with the same teacher and data runs no teacher
forward pass, and a changed teacher never reads another teacher's rows. With a teacher ensemble
(multi_teacher) the target is the members' combined logits, each member's kept alongside.

The teacher scores in bf16 autocast where the device runs it in hardware (``soft_targets.precision``), after
a check that bf16 gives the float32 labels on the dev split; the precision is part of the teacher
fingerprint, so a store folder never mixes bf16 and float32 logits.

The misses are scored in this process (``soft_targets.engine: local``) or by a Ray Data actor pool
(``ray``, ``distill/labelling/ray_engine.py``); both write the same partitions. The steps are
``distill.labelling.soft_target_fill``.

``soft_targets`` (the train, dev and unlabelled examples) and ``transfer_targets`` (augmented and
unlabelled corpus rows) are assembled from the store for the student. The test rows are not in the
transfer set: evaluation labels them through the same store.
"""

import logging
from collections.abc import Callable
from typing import Any

import pandas as pd

from text_distill.distill.data.soft_targets import SoftTargetMismatchError
from text_distill.distill.labelling import soft_target_fill as fill
from text_distill.distill.models.baselines import CrossFittedBaseline
from text_distill.distill.models.teacher import TeacherClassifier

logger = logging.getLogger(__name__)

Partitions = dict[str, Callable[[], pd.DataFrame]]
__all__ = ["assemble_soft_targets", "fill_soft_target_store"]


def fill_soft_target_store(
    teacher: TeacherClassifier,
    teacher_fingerprint: dict[str, Any],
    transfer_set: Partitions,
    store_keys: Partitions,
    examples: pd.DataFrame,
    params: dict[str, Any],
    ray_params: dict[str, Any] | None = None,
    **members: TeacherClassifier | CrossFittedBaseline,
) -> tuple[Partitions, dict[str, Any], dict[str, dict[str, float]]]:
    """New store partitions for the transfer-set texts the store lacks (scored as they are saved,
    by the ``params.engine`` engine: ``local``, or ``ray`` on the Ray that ``ray_params`` names),
    the labelling report and its MLflow metrics. ``examples``: the train and dev rows (bf16 is
    checked on dev); ``store_keys`` is the store read key column only; ``members``, the teacher seed
    variants (``seed_<n>``) and n-gram members by name. With no misses nothing is scored, not even
    the dev-split precision check."""
    dev_texts = examples.loc[examples["split"] == "dev", "text"].tolist()
    partitions, report = fill.fill_store(
        teacher, members, teacher_fingerprint, transfer_set, store_keys, dev_texts, params, ray_params or {}
    )
    return partitions, report, fill.labelling_metrics(report)


def assemble_soft_targets(
    examples: pd.DataFrame,
    transfer_set: Partitions,
    soft_target_store: Partitions,
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
    soft_targets, transfer_targets = fill.assemble_targets(
        examples, transfer_set, soft_target_store, fingerprint, teacher_labelling["teachers"]
    )
    logger.info(
        "Soft targets: %d labelled examples, %d transfer rows (%s)",
        *(len(soft_targets), len(transfer_targets), transfer_targets["source"].value_counts().to_dict()),
    )
    return soft_targets, transfer_targets
