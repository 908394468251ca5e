"""Temperature sweep wiring: reads the distill chain's cache and scores, never the test split for
selection."""

from kedro.pipeline import Node, Pipeline

from text_distill.pipelines.student.pipeline import DISTILLED, VECTORS

from .nodes import sweep_temperature, tabulate_sweep


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                sweep_temperature,
                [
                    "segmented_examples",
                    "examples",  # train and dev to train on, test for the table (never to select)
                    *DISTILLED,
                    *VECTORS,  # ends with params:student
                    "params:evaluate",
                    "params:temperature_sweep",
                    "params:ray",
                ],
                "temperature_sweep_runs",
                name="sweep_temperature",
            ),
            Node(
                tabulate_sweep,
                ["temperature_sweep_runs", "teacher_scores", "student_alone_scores"],
                ["temperature_sweep_table", "temperature_sweep_plot"],
                name="tabulate_sweep",
            ),
        ]
    )
