"""Augment pipeline wiring."""

from kedro.pipeline import Pipeline

from text_distill.pipelines import step

from .nodes import build_transfer_set


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            step(
                build_transfer_set,
                ["examples", "segmented_examples", "unlabelled_corpus", "teacher_base", "params:augment"],
                ["transfer_set", "transfer_set_report"],
            )
        ],
        namespace="augment",
        prefix_datasets_with_namespace=False,
    )
