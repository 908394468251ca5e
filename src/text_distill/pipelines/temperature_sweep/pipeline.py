"""Temperature sweep wiring: reads the distill chain's cache and scores, never the test split for
selection."""

from kedro.pipeline import Node, Pipeline

from text_distill.pipelines.student.pipeline import DISTILLED, SHARED, VECTORS

from .nodes import sweep_temperature, tabulate_sweep


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                sweep_temperature,
                [
                    *SHARED,
                    *DISTILLED,
                    *VECTORS,  # ends with params:student
                    "params:evaluate",
                    "params:temperature_sweep",
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
