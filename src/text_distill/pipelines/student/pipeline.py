"""Student pipeline wiring."""

from kedro.pipeline import Node, Pipeline

from text_distill.pipelines import bound, seed_variant, trained_at_seed
from text_distill.pipelines.inputs import STUDENT_DATA, TEACHER_TARGETS

from .nodes import resolve_student_recipe, train_distilled_student, train_student_alone

# both students train from the recipe as recorded (resolve_student_recipe's ``student_recipe``)
DISTILLED_INPUTS = {**STUDENT_DATA, **TEACHER_TARGETS, "recipe": "student_recipe"}
ALONE_INPUTS = {
    **STUDENT_DATA,
    "teacher_base": "teacher_base",
    "recipe": "student_recipe",
    "teacher_params": "params:teacher",
}


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
