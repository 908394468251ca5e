"""Soft targets: the teacher's logits for train, dev and test, computed once and cached.

With a teacher ensemble (multi_teacher) the target is the members' combined logits."""

import logging
from typing import Any

import numpy as np
import pandas as pd
import torch

from text_distill.distill.losses import combine_teacher_logits
from text_distill.distill.soft_targets import soft_target_table
from text_distill.distill.teacher import TeacherClassifier

logger = logging.getLogger(__name__)


def compute_soft_targets(
    teacher: TeacherClassifier,
    ensemble: dict[str, TeacherClassifier],
    teacher_fingerprint: dict[str, Any],
    examples: pd.DataFrame,
    params: dict[str, Any],
) -> pd.DataFrame:
    """Batched inference of every teacher over every example, tagged with the teachers' fingerprint."""
    torch.set_num_threads(int(params["threads"]))
    members = [teacher, *ensemble.values()]
    if len(members) != len(teacher_fingerprint["members"]):
        raise ValueError(
            f"{len(members)} teachers but the fingerprint names {len(teacher_fingerprint['members'])}: "
            "rerun `kedro run --pipeline teacher`"
        )
    texts = examples["text"].tolist()
    logits = [
        member.predict_logits(texts, batch_size=int(params["batch_size"]), progress=True)
        for member in members
    ]
    logger.info("Teacher forward passes: %d texts x %d teacher(s)", len(texts), len(members))
    if len(members) == 1:
        return soft_target_table(examples, logits[0], teacher_fingerprint["fingerprint"])
    combined = combine_teacher_logits(
        [torch.from_numpy(member) for member in logits], teacher_fingerprint["weights"]
    ).numpy()
    return soft_target_table(examples, combined, teacher_fingerprint["fingerprint"], np.stack(logits, axis=1))
