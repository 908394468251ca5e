"""Compare pipeline wiring: `kedro run --pipeline compare`."""

from kedro.pipeline import Pipeline

from text_distill.pipelines import step

from .nodes import compare_runs


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [step(compare_runs, ["recent_runs", "params:compare"], "run_comparison")],
        namespace="compare",
        prefix_datasets_with_namespace=False,
    )
