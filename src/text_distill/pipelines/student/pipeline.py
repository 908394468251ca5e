"""Student pipeline wiring."""

from kedro.pipeline import Node, Pipeline

from text_distill.pipelines import bound, seed_variant, trained_at_seed

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


DISTILLED_INPUTS = [*SHARED, *TARGETS, "teacher", *VECTORS]
ALONE_INPUTS = [*SHARED, "teacher_base", *VECTORS, "params:teacher"]


def both_students_at(seed: int) -> Pipeline:
    """Both students again at ``seed``: nodes ``seed_<n>.<node>``, datasets ``<model>_seed_<n>``."""
    return seed_variant(
        seed,
        [
            trained_at_seed(train_distilled_student, DISTILLED_INPUTS, "student", seed),
            trained_at_seed(train_student_alone, ALONE_INPUTS, "student_alone", seed),
        ],
    )


def create_pipeline(seeds: tuple[int, ...] = (), **kwargs) -> Pipeline:
    """The recipe, both students at the recipe's seed, and both again at each of ``seeds``
    (``variants.yml`` student_seeds)."""
    return Pipeline(
        [
            Node(
                bound(resolve_student_recipe, seeds=seeds),
                ["params:student", "params:recipe"],
                "student_recipe",
                name="resolve_student_recipe",
            ),
            Node(
                train_distilled_student,
                DISTILLED_INPUTS,
                ["student", "student_training_log"],
                name="train_distilled_student",
            ),
            Node(
                train_student_alone,
                ALONE_INPUTS,
                ["student_alone", "student_alone_training_log"],
                name="train_student_alone",
            ),
            *(both_students_at(seed) for seed in seeds),
        ],
        namespace="student",
        prefix_datasets_with_namespace=False,
    )
