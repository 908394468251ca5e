"""Evaluate pipeline wiring: the teacher, both students and every registered baseline."""

from kedro.pipeline import Node, Pipeline

from text_distill.distill.evaluation.scores import STUDENTS
from text_distill.distill.models.baselines import BASELINES
from text_distill.pipelines import bound, seed_variant
from text_distill.variants import seed_dataset

from .nodes import (
    plot_evaluation,
    profile_models,
    score_across_seeds,
    score_model,
    score_teacher,
    summarise,
)

AGAINST_TEACHER = ["test_examples", "soft_targets", "label_names", "params:evaluate"]
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


def create_pipeline(seeds: tuple[int, ...] = (), **kwargs) -> Pipeline:
    """The teacher's, the students' and the baselines' test scores (the students' also at each of
    ``seeds``, ``variants.yml`` student_seeds), their speed, figures and the report."""
    return Pipeline(
        [
            Node(
                score_teacher,
                ["soft_targets", "test_examples", "teacher_fingerprint", "label_names", "params:evaluate"],
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
