"""Soft targets: the teacher's logits for train, dev and test, computed once and cached."""

import logging
from typing import Any

import pandas as pd
import torch

from text_distill.distill.soft_targets import soft_target_table
from text_distill.distill.teacher import TeacherClassifier

logger = logging.getLogger(__name__)


def compute_soft_targets(
    teacher: TeacherClassifier, examples: pd.DataFrame, params: dict[str, Any]
) -> pd.DataFrame:
    """Batched teacher inference over every example, tagged with the teacher's fingerprint."""
    torch.set_num_threads(int(params["threads"]))
    logits = teacher.predict_logits(
        examples["text"].tolist(), batch_size=int(params["batch_size"]), progress=True
    )
    logger.info("Teacher forward passes: %d texts", len(examples))
    return soft_target_table(examples, logits, teacher.fingerprint())
