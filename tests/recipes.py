"""The project's default student recipe for library tests: defaults live in the parameters file only."""

from dataclasses import replace
from typing import Any

from tests.conftest import PROJECT_ROOT
from text_distill.distill.training.recipe import StudentRecipe
from text_distill.distill.training.student_loop import TrainingConfig

DEFAULT_RECIPE = StudentRecipe.from_yaml(PROJECT_ROOT / "conf" / "base" / "parameters_student.yml")


def training_config(**changes: Any) -> TrainingConfig:
    """The default recipe's trainer settings with ``changes``, quiet, and the epochs as given (no
    ``min_steps``: tests train a few rows for a few epochs)."""
    return replace(DEFAULT_RECIPE.training_config(), **{"progress": False, "min_steps": None, **changes})
