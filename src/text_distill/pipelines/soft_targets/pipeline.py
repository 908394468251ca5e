"""Soft-target pipeline wiring."""

from kedro.pipeline import Pipeline

from text_distill.pipelines import step, teacher_members

from .nodes import assemble_soft_targets, fill_soft_target_store


def create_pipeline(
    teacher_seeds: tuple[int, ...] = (), ngram_members: tuple[str, ...] = (), **kwargs
) -> Pipeline:
    """Label every text the store lacks with the teacher's members (besides the main one, its seed
    variants ``teacher_seeds`` and n-gram members ``ngram_members``), then assemble the targets."""
    return Pipeline(
        [
            step(
                fill_soft_target_store,
                {
                    **teacher_members(teacher_seeds, ngram_members),
                    "teacher_fingerprint": "teacher_fingerprint",
                    "transfer_set": "transfer_set",
                    "store_keys": "soft_target_store_keys",
                    "examples": "train_dev_examples",
                    "params": "params:soft_targets",
                    "ray_params": "params:ray",  # read only with soft_targets.engine: ray
                },
                ["soft_target_store", "teacher_labelling", "teacher_labelling_metrics"],
            ),
            step(
                assemble_soft_targets,
                [
                    "train_dev_examples",
                    "transfer_set",
                    "soft_target_store",
                    "teacher_fingerprint",
                    "teacher_labelling",
                ],
                ["soft_targets", "transfer_targets"],
            ),
        ],
        namespace="soft_targets",
        prefix_datasets_with_namespace=False,
    )
