"""The ``temperature_sweep`` and ``recipe_search`` parameters, typed (their parameters files hold every
key and its default; these models only say what each accepts). ``hooks.RecipeCheckHook`` parses them
before the first node of a run that reads them; the sweeps read the checked keys as given. What a
trial sets in the student recipe (``overrides``, ``space``, ``fixed``) is checked as the student
recipe when the trial builds it."""

from typing import Annotated, Any, Literal

from pydantic import Field

from text_distill.distill.config import Settings
from text_distill.distill.tuning.sweeps import SAMPLERS, SEARCH_ENGINES, TRIAL_ENGINES

CPUS = Annotated[float, Field(gt=0)]  # a trial's reservation on Ray (fractions allowed)
GPUS = Annotated[float, Field(ge=0)]


class TemperatureSweepConfig(Settings):
    overrides: dict[str, Any]  # over the student parameters, nested like them
    engine: Literal[tuple(TRIAL_ENGINES)]  # type: ignore[valid-type]
    trial_cpus: CPUS
    trial_gpus: GPUS


class RecipeSearchConfig(Settings):
    engine: Literal[tuple(SEARCH_ENGINES)]  # type: ignore[valid-type]
    trials: Annotated[int, Field(ge=1)]
    sampler: Literal[tuple(SAMPLERS)]  # type: ignore[valid-type]
    seed: int
    space: dict[str, Any]  # parameter path -> {low, high, log?} or {choices: [...]}
    fixed: dict[str, Any] | None
    trial_cpus: CPUS
    trial_gpus: GPUS
    max_concurrent_trials: Annotated[int, Field(ge=1)] | None
