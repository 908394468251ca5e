"""Evaluate pipeline wiring: the teacher, both students and every registered baseline."""

from kedro.pipeline import Node, Pipeline

from text_distill.distill.evaluation.scores import STUDENTS
from text_distill.distill.models.baselines import BASELINES
from text_distill.pipelines import bound, seed_variant, step, teacher_members
from text_distill.variants import seed_dataset

from .nodes import (
    assemble_test_targets,
    label_test_rows,
    plot_evaluation,
    profile_models,
    score_across_seeds,
    score_model,
    score_teacher,
    summarise,
)

AGAINST_TEACHER = ["test_examples", "test_soft_targets", "label_names", "params:evaluate"]
BASELINE_MODELS = {f"baseline_{name}": f"baseline_{name}" for name in BASELINES}
BASELINE_SCORES = {f"baseline_{name}": f"baseline_{name}_scores" for name in BASELINES}


def scores_at(seed: int) -> Pipeline:
    """Both students' test scores at ``seed`` (nodes ``seed_<n>.score_<student>``)."""
    return seed_variant(
        seed,
        [
            Node(
                score_model,
                [seed_dataset(model, seed), *AGAINST_TEACHER],
                seed_dataset(model, seed, "scores"),
                name=f"score_{model}",
            )
            for model in STUDENTS
        ],
    )


def across_seeds_inputs(seeds: tuple[int, ...]) -> list[str]:
    """Each student's training log and test scores, kept and at each seed variant."""
    return [
        name
        for model in STUDENTS
        for kind in ("training_log", "scores")
        for name in (f"{model}_{kind}", *(seed_dataset(model, seed, kind) for seed in seeds))
    ]


def test_labelling(teacher_seeds: tuple[int, ...], ngram_members: tuple[str, ...]) -> list[Node]:
    """The teacher's members label the test rows into the soft-target store (the stage that reads
    test, so the transfer set and everything fitted never hold a test row), then the test targets."""
    return [
        step(
            label_test_rows,
            {
                **teacher_members(teacher_seeds, ngram_members),
                "teacher_fingerprint": "teacher_fingerprint",
                "test_examples": "test_examples",
                "store_keys": "test_store_keys",
                "teacher_labelling": "teacher_labelling",
                "params": "params:soft_targets",
                "ray_params": "params:ray",  # read only with soft_targets.engine: ray
            },
            ["test_target_store", "test_labelling"],
        ),
        step(
            assemble_test_targets,
            ["test_examples", "test_target_store", "teacher_fingerprint", "test_labelling"],
            "test_soft_targets",
        ),
    ]


def create_pipeline(
    seeds: tuple[int, ...] = (),
    teacher_seeds: tuple[int, ...] = (),
    ngram_members: tuple[str, ...] = (),
    **kwargs,
) -> Pipeline:
    """The teacher's test logits, then the teacher's, the students' and the baselines' test scores
    (the students' also at each of ``seeds``, ``variants.yml`` student_seeds), their speed, figures
    and the report."""
    return Pipeline(
        [
            *test_labelling(teacher_seeds, ngram_members),
            Node(
                score_teacher,
                [
                    "test_soft_targets",
                    "test_examples",
                    "teacher_fingerprint",
                    "label_names",
                    "params:evaluate",
                ],
                "teacher_scores",
                name="score_teacher",
            ),
            Node(score_model, ["student", *AGAINST_TEACHER], "student_scores", name="score_student"),
            Node(
                score_model,
                ["student_alone", *AGAINST_TEACHER],
                "student_alone_scores",
                name="score_student_alone",
            ),
            *(
                Node(score_model, [model, *AGAINST_TEACHER], f"{model}_scores", name=f"score_{model}")
                for model in BASELINE_MODELS
            ),
            *(scores_at(seed) for seed in seeds),
            Node(
                bound(score_across_seeds, seeds=seeds),
                {name: name for name in across_seeds_inputs(seeds)},
                "across_seeds_scores",
                name="score_across_seeds",
            ),
            Node(
                profile_models,
                {
                    "examples": "test_examples",
                    "params": "params:evaluate",
                    "teacher": "teacher",
                    "student": "student",
                    "student_alone": "student_alone",
                    **BASELINE_MODELS,
                },
                "model_profile",
                name="profile_models",
            ),
            Node(
                plot_evaluation,
                {
                    "teacher_scores": "teacher_scores",
                    "student_scores": "student_scores",
                    "student_alone_scores": "student_alone_scores",
                    "profile": "model_profile",
                    "student_training_log": "student_training_log",
                    "student_alone_training_log": "student_alone_training_log",
                    "label_names": "label_names",
                    **BASELINE_SCORES,
                },
                [
                    "confusion_matrices_plot",
                    "reliability_plot",
                    "accuracy_speed_plot",
                    "training_curves_plot",
                ],
                name="plot_evaluation",
            ),
            Node(
                summarise,
                {
                    "teacher_scores": "teacher_scores",
                    "student_scores": "student_scores",
                    "student_alone_scores": "student_alone_scores",
                    "across_seeds": "across_seeds_scores",
                    "profile": "model_profile",
                    "row_accounting": "row_accounting",
                    "split_report": "split_report",
                    "teacher_fingerprint": "teacher_fingerprint",
                    "teacher_labelling": "teacher_labelling",
                    "params": "params:evaluate",
                    "test_examples": "test_examples",
                    **BASELINE_SCORES,
                },
                ["distill_summary", "distill_report", "distill_metrics"],
                name="summarise",
            ),
        ],
        namespace="evaluate",
        prefix_datasets_with_namespace=False,
    )
