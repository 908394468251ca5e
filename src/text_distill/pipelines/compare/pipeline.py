"""Compare pipeline wiring: `kedro run --pipeline compare`."""

from kedro.pipeline import Node, Pipeline

from .nodes import compare_runs


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [Node(compare_runs, ["recent_runs", "params:compare"], "run_comparison", name="compare_runs")]
    )
