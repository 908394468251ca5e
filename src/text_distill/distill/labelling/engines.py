"""The engines that fill the soft-target store, by the name ``soft_targets.engine`` gives.

Each takes the fill plan, the text column, the ``TeacherScoring`` and the soft_targets and ray
parameters, and returns the new store partitions (scored lazily, as the dataset saves them) and
what the engine adds to the labelling report. Ray is imported only when a Ray fill starts.
"""

from collections.abc import Callable
from typing import Any

import pandas as pd

from text_distill.distill.data.soft_target_store import FillPlan
from text_distill.distill.labelling.local_engine import TeacherScoring, local_partitions, teacher_scorer
from text_distill.distill.labelling.ray_engine import ray_partitions
from text_distill.distill.runtimes import engine

ScoringEngine = Callable[
    [FillPlan, str, TeacherScoring, dict[str, Any], dict[str, Any]],
    tuple[dict[str, Callable[[], pd.DataFrame]], dict[str, Any]],
]

SCORING_ENGINES: dict[str, ScoringEngine] = {"local": local_partitions, "ray": ray_partitions}

__all__ = ["SCORING_ENGINES", "ScoringEngine", "TeacherScoring", "scoring_engine", "teacher_scorer"]


def scoring_engine(name: str) -> ScoringEngine:
    """The engine called ``name``; an unknown name raises, listing the known ones."""
    return engine(SCORING_ENGINES, name, "soft_targets.engine")
