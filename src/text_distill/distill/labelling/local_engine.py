"""Teacher labelling in this process: the store's misses scored partition by partition as they are saved."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch

from text_distill.distill.data.soft_target_store import FillPlan, lazy_partitions
from text_distill.distill.models.baselines import CrossFittedBaseline
from text_distill.distill.models.teacher import TeacherClassifier
from text_distill.distill.objectives.losses import combine_teacher_logits

Member = TeacherClassifier | CrossFittedBaseline
Scorer = Callable[[list[str]], tuple[np.ndarray, np.ndarray | None]]


def teacher_scorer(
    members: list[Member], weights: list[float] | None, batch_size: int, precision: str = "float32"
) -> Scorer:
    """Texts -> the target logits (an ensemble's combination) and each member's, if several."""

    def score(texts: list[str]) -> tuple[np.ndarray, np.ndarray | None]:
        logits = [
            member.predict_logits(texts, batch_size=batch_size, precision=precision) for member in members
        ]
        if len(members) == 1:
            return logits[0], None
        combined = combine_teacher_logits([torch.from_numpy(each) for each in logits], weights).numpy()
        return combined, np.stack(logits, axis=1)

    return score


@dataclass
class TeacherScoring:
    """What scores a text, whatever engine runs it: the teacher members (on the device the
    caller put them), their ensemble weights, the batch size and the precision."""

    members: list[Member]
    weights: list[float] | None
    batch_size: int
    precision: str = "float32"

    def scorer(self) -> Scorer:
        return teacher_scorer(self.members, self.weights, self.batch_size, self.precision)


def local_partitions(
    plan: FillPlan, text_column: str, scoring: TeacherScoring, *_parameters: dict[str, Any]
) -> tuple[dict[str, Callable[[], pd.DataFrame]], dict[str, Any]]:
    """The new store partitions, scored in this process on the members' device when saved, and
    nothing more for the report (the soft_targets and Ray parameters are not read)."""
    return lazy_partitions(plan, text_column, scoring.scorer()), {}
