"""Recipe search: a hyper-parameter search over the distilled student's recipe (temperature, alpha,
learning rate, the augmentation size) from the cached teacher logits, selected on dev macro-F1 only;
one nested MLflow run per trial, a table, and the best recipe as a recipe file.

``recipe_search.engine``: ``local`` (Optuna in this process) or ``ray`` (Optuna's sampler through
Ray Tune's ``OptunaSearch``, trials in parallel).
"""

import logging
from typing import Any

import numpy as np
import pandas as pd

from text_distill.distill.augment import first_copies
from text_distill.distill.engines import engine
from text_distill.distill.engines.sweeps import SEARCH_ENGINES, flatten, unflatten
from text_distill.distill.engines.trials import ARCHITECTURE, STUDENT, needed_teacher, student_trial
from text_distill.distill.teacher import TeacherClassifier

logger = logging.getLogger(__name__)

METRIC = "dev_macro_f1"  # selection; the test split is scored for the table only
AUGMENT_COPIES = "augment.n_iter"  # searched from the cache: the first k copies of each example


def _is_distribution(value: Any) -> bool:
    return isinstance(value, dict) and ("low" in value or "choices" in value)


def search_space(params: dict[str, Any], transfer_targets: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """``recipe_search.space`` by dotted parameter path. The augmentation size is searched only up to
    the copies the cached transfer set holds (dropped when it holds none: nothing to vary)."""
    space = flatten(params["space"], leaf=_is_distribution)
    for key, spec in space.items():
        if not (key.startswith(STUDENT) or key == AUGMENT_COPIES) or not _is_distribution(spec):
            raise ValueError(
                f"recipe_search.space.{key}: a search covers student.* keys and {AUGMENT_COPIES}, "
                "each {low, high, log?} or {choices: [...]}"
            )
    if AUGMENT_COPIES in space:
        augmented = transfer_targets[transfer_targets["source"] == "augmented"]
        most = int(augmented.groupby("origin_id").size().max()) if len(augmented) else 0
        if most == 0:
            logger.info(
                "Recipe search: the transfer set has no augmented copies, %s not searched", AUGMENT_COPIES
            )
            del space[AUGMENT_COPIES]
        elif space[AUGMENT_COPIES].get("high", 0) > most:
            space[AUGMENT_COPIES] = {**space[AUGMENT_COPIES], "high": most}
    return space


def search_recipe(
    segmented: pd.DataFrame,
    examples: pd.DataFrame,
    soft_targets: pd.DataFrame,
    transfer_targets: pd.DataFrame,
    teacher_fingerprint: dict[str, Any],
    teacher: TeacherClassifier,
    word_vocabulary: list[str],
    word_embeddings: np.ndarray,
    char_vocabulary: list[str],
    char_embeddings: np.ndarray,
    word_segmenter: dict[str, str],
    label_names: list[str],
    student_params: dict[str, Any],
    evaluate_params: dict[str, Any],
    params: dict[str, Any],
    ray_params: dict[str, Any] | None = None,
) -> dict[str, dict[str, Any]]:
    """``params.trials`` distilled students, each recipe drawn by Optuna's sampler from
    ``params.space`` over ``params.fixed`` and the student parameters, on ``params.engine``; the
    sampler maximises dev macro-F1. One record per trial."""
    space = search_space(params, transfer_targets)
    fixed = flatten(params.get("fixed") or {})
    both = sorted(set(space) & set(fixed))
    if both:  # the trial would take the drawn value but the recipe file the fixed one
        raise ValueError(
            f"recipe_search: {', '.join(both)} both searched and fixed: drop it from recipe_search.fixed"
        )
    architectures = [fixed.get(ARCHITECTURE), *space.get(ARCHITECTURE, {}).get("choices", [])]
    trial = student_trial(
        segmented,
        examples,
        soft_targets,
        transfer_targets,
        teacher_fingerprint,
        needed_teacher(teacher, student_params, architectures),
        word_vocabulary,
        word_embeddings,
        char_vocabulary,
        char_embeddings,
        word_segmenter,
        label_names,
        student_params,
        evaluate_params,
        transfer=lambda rows, config: first_copies(rows, config.get(AUGMENT_COPIES)),
    )
    search = engine(SEARCH_ENGINES, params.get("engine", "local"), "recipe_search.engine")
    return search(lambda config: trial({**fixed, **config}), space, METRIC, params, ray_params or {})


def summarise_search(
    runs: dict[str, dict[str, Any]], params: dict[str, Any]
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """A table of the trials (searched values, dev macro-F1, test scores), best on dev first, and
    the best trial's recipe file: its searched values and ``params.fixed``, nested as the parameters
    are (``{student: {objective: {temperature: ...}}}``). Ties go to the earlier trial."""
    fixed = flatten(params.get("fixed") or {})
    searched = sorted({key for run in runs.values() for key in run["config"]} - set(fixed))
    table = pd.DataFrame(
        [
            {
                "trial": name,
                **{key: run["config"].get(key) for key in searched},
                **{key: run["metrics"][key] for key in (METRIC, "test_accuracy", "test_macro_f1")},
            }
            for name, run in runs.items()
        ]
    )
    table = table.sort_values(METRIC, ascending=False, kind="stable").reset_index(drop=True)
    best = table.loc[0, "trial"]
    table["best"] = table["trial"] == best
    config = runs[best]["config"]
    logger.info(
        "Recipe search: %s is best on dev (macro-F1 %.4f): %s", best, runs[best]["metrics"][METRIC], config
    )
    return table, unflatten({**fixed, **{key: config[key] for key in searched if key in config}})
