"""Recipe search: a hyper-parameter search over the distilled student's recipe (temperature, alpha,
learning rate, the augmentation size) from the cached teacher logits, selected on dev macro-F1 only;
one nested MLflow run per trial, a table, and the best recipe as a recipe file.

``recipe_search.engine``: ``local`` (Optuna in this process) or ``ray`` (Optuna's sampler through
Ray Tune's ``OptunaSearch``, trials in parallel). The space, the table and the recipe file are
``distill.tuning.studies``; a trial is ``distill.tuning.trials.student_trial``.
"""

from typing import Any

import pandas as pd

from text_distill.distill.data.augment import first_copies
from text_distill.distill.runtimes import engine
from text_distill.distill.tuning.studies import (
    AUGMENT_COPIES,
    METRIC,
    fixed_values,
    search_space,
    summarise_trials,
)
from text_distill.distill.tuning.sweeps import SEARCH_ENGINES, flatten
from text_distill.distill.tuning.trials import ARCHITECTURE, Study


def search_recipe(params: dict[str, Any], **study_inputs: Any) -> dict[str, dict[str, Any]]:
    """``params.trials`` distilled students, each recipe drawn by Optuna's sampler from
    ``params.space`` over ``params.fixed`` and the student parameters, on ``params.engine``; the
    sampler maximises dev macro-F1. One record per trial. ``study_inputs``:
    ``pipelines.inputs.STUDY``'s entries by argument name (``Study.of``'s)."""
    study = Study.of(**study_inputs)
    space = search_space(params, study.inputs.transfer_targets)
    fixed = fixed_values(params, space)
    architectures = [fixed.get(ARCHITECTURE), *space.get(ARCHITECTURE, {}).get("choices", [])]
    trial = study.trial(architectures, lambda rows, config: first_copies(rows, config.get(AUGMENT_COPIES)))
    search = engine(SEARCH_ENGINES, params["engine"], "recipe_search.engine")
    return search(lambda config: trial({**fixed, **config}), space, METRIC, params, study.ray_params)


def summarise_search(
    runs: dict[str, dict[str, Any]], params: dict[str, Any]
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The trials as a table, best on dev first, and the best trial's recipe file (its searched
    values over ``params.fixed``, nested as the parameters are)."""
    return summarise_trials(runs, flatten(params.get("fixed") or {}))
