"""What the sweeps and searches of the student's recipe try, and how their trials are summarised: the
temperature sweep's configuration per temperature, table and plot; the recipe search's space, its
fixed values and the best trial as a recipe file. The trials themselves are
``trials.student_trial``, run by the engines of ``sweeps``."""

import logging
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from text_distill.distill.tuning.sweeps import flatten, unflatten
from text_distill.distill.tuning.trials import STUDENT, TEMPERATURE

logger = logging.getLogger(__name__)

METRIC = "dev_macro_f1"  # a search's selection; the test split is scored for the table only
AUGMENT_COPIES = "augment.n_iter"  # searched from the cache: the first k copies of each example


def temperature_run_name(temperature: float) -> str:
    """A sweep temperature's nested MLflow run: ``T=4``, ``T=2.5``."""
    return f"T={temperature:g}"


def temperature_config(params: dict[str, Any], temperature: float) -> dict[str, Any]:
    """The trial configuration of ``temperature`` over ``params.overrides`` (a loss that T enters)."""
    return {**flatten(params.get("overrides") or {}, STUDENT), TEMPERATURE: float(temperature)}


def sweep_table(runs: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """The sweep's records as one row per temperature (test scores and dev macro-F1), by T."""
    columns = ("temperature", "test_accuracy", "test_macro_f1", "dev_macro_f1")
    table = pd.DataFrame([{key: run["metrics"][key] for key in columns} for run in runs.values()])
    return table.sort_values("temperature").reset_index(drop=True)


def sweep_figure(table: pd.DataFrame, teacher_accuracy: float, student_alone_accuracy: float) -> Figure:
    """Test accuracy and macro-F1 against T (log scale), the teacher and the student alone as lines."""
    figure = Figure(figsize=(6.4, 4.0), layout="constrained")
    axes = figure.subplots()
    axes.plot(table["temperature"], table["test_accuracy"], "o-", label="distilled student: accuracy")
    axes.plot(table["temperature"], table["test_macro_f1"], "s--", label="distilled student: macro-F1")
    axes.axhline(teacher_accuracy, color="grey", linestyle=":", label="teacher accuracy")
    axes.axhline(student_alone_accuracy, color="black", linestyle="-.", label="student-alone accuracy")
    axes.set_xscale("log", base=2)
    axes.set_xticks(table["temperature"], [f"{t:g}" for t in table["temperature"]])
    axes.set(xlabel="temperature T", ylabel="test score", title="Distilled student against temperature")
    axes.grid(alpha=0.3)
    axes.legend(fontsize="small")
    return figure


def _is_distribution(value: Any) -> bool:
    return isinstance(value, dict) and ("low" in value or "choices" in value)


def _augmented_copies(transfer_targets: pd.DataFrame) -> int:
    """The most augmented copies the cached transfer set holds of one example."""
    augmented = transfer_targets[transfer_targets["source"] == "augmented"]
    return int(augmented.groupby("origin_id").size().max()) if len(augmented) else 0


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
        most = _augmented_copies(transfer_targets)
        if most == 0:
            logger.info(
                "Recipe search: the transfer set has no augmented copies, %s not searched", AUGMENT_COPIES
            )
            del space[AUGMENT_COPIES]
        elif space[AUGMENT_COPIES].get("high", 0) > most:
            space[AUGMENT_COPIES] = {**space[AUGMENT_COPIES], "high": most}
    return space


def fixed_values(params: dict[str, Any], space: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """``recipe_search.fixed`` by dotted path; a key also searched is refused (the trial would take
    the drawn value but the recipe file the fixed one)."""
    fixed = flatten(params.get("fixed") or {})
    both = sorted(set(space) & set(fixed))
    if both:
        raise ValueError(
            f"recipe_search: {', '.join(both)} both searched and fixed: drop it from recipe_search.fixed"
        )
    return fixed


def summarise_trials(
    runs: dict[str, dict[str, Any]], fixed: dict[str, Any]
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """A table of the trials (searched values, dev macro-F1, test scores), best on dev first, and
    the best trial's recipe file: its searched values and ``fixed``, nested as the parameters are
    (``{student: {objective: {temperature: ...}}}``). Ties go to the earlier trial."""
    searched = sorted({key for run in runs.values() for key in run["config"]} - set(fixed))
    scores = (METRIC, "test_accuracy", "test_macro_f1")
    table = pd.DataFrame(
        [
            {"trial": name, **{key: run["config"].get(key) for key in searched}}
            | {key: run["metrics"][key] for key in scores}
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
