"""Soft-target pipeline wiring."""

from kedro.pipeline import Pipeline

from text_distill.pipelines import step

from .nodes import assemble_soft_targets, fill_soft_target_store


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            step(
                fill_soft_target_store,
                [
                    "teacher",
                    "teacher_ensemble",
                    "teacher_ngram",
                    "teacher_fingerprint",
                    "transfer_set",
                    "soft_target_store_keys",
                    "examples",
                    "params:soft_targets",
                    "params:ray",  # read only with soft_targets.engine: ray
                ],
                ["soft_target_store", "teacher_labelling", "teacher_labelling_metrics"],
            ),
            step(
                assemble_soft_targets,
                ["examples", "transfer_set", "soft_target_store", "teacher_fingerprint", "teacher_labelling"],
                ["soft_targets", "transfer_targets"],
            ),
        ],
        namespace="soft_targets",
        prefix_datasets_with_namespace=False,
    )
