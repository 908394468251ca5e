"""Student pipeline wiring."""

from kedro.pipeline import Node, Pipeline

from .nodes import resolve_student_recipe, train_distilled_student, train_student_alone

SHARED = ["segmented_examples", "train_dev_examples"]  # never a test row
TARGETS = ["soft_targets", "transfer_targets"]
# what the sweeps (recipe_search, temperature_sweep) read besides (the teacher: a transformer's)
DISTILLED = [*TARGETS, "teacher"]
VECTORS = [
    "word_vocabulary",
    "word_embeddings",
    "char_vocabulary",
    "char_embeddings",
    "word_segmenter",
    "label_names",
    "params:student",
]


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                resolve_student_recipe,
                ["params:student", "params:recipe"],
                "student_recipe",
                name="resolve_student_recipe",
            ),
            Node(
                train_distilled_student,
                [*SHARED, *TARGETS, "teacher", *VECTORS],
                ["student", "student_training_log", "student_replicas"],
                name="train_distilled_student",
            ),
            Node(
                train_student_alone,
                [*SHARED, "teacher_base", *VECTORS, "params:teacher"],
                ["student_alone", "student_alone_training_log", "student_alone_replicas"],
                name="train_student_alone",
            ),
        ],
        namespace="student",
        prefix_datasets_with_namespace=False,
    )
