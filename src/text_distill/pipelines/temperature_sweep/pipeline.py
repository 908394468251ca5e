"""Temperature sweep wiring: reads the distill chain's cache and scores, never the test split for
selection."""

from kedro.pipeline import Pipeline

from text_distill.pipelines import step
from text_distill.pipelines.student.pipeline import DISTILLED, VECTORS

from .nodes import sweep_temperature, tabulate_sweep


def retraining_inputs(params: str) -> list[str]:
    """The inputs of a node that retrains the distilled student from the distill chain's cache, in the
    order of its arguments, with its own parameters ``params``."""
    return [
        "segmented_examples",
        "examples",  # train and dev to train on, test for the table (never to select)
        *DISTILLED,
        *VECTORS,  # ends with params:student
        "params:evaluate",
        params,
        "params:ray",
    ]


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            step(sweep_temperature, retraining_inputs("params:temperature_sweep"), "temperature_sweep_runs"),
            step(
                tabulate_sweep,
                ["temperature_sweep_runs", "teacher_scores", "student_alone_scores"],
                ["temperature_sweep_table", "temperature_sweep_plot"],
            ),
        ],
        namespace="temperature_sweep",
        prefix_datasets_with_namespace=False,
    )
