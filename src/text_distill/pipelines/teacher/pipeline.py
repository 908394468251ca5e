"""Teacher pipeline wiring."""

from kedro.pipeline import Node, Pipeline

from text_distill.distill.baselines import BASELINES
from text_distill.pipelines import seed_variant, step, teacher_members, trained_at_seed

from .nodes import (
    choose_teacher_weights,
    fine_tune_teacher,
    fine_tune_teacher_at_seed,
    fingerprint_teacher,
    fit_ngram_teachers,
    prepare_teacher_base,
)

FINE_TUNING = ["teacher_base", "train_dev_examples", "label_names", "params:teacher", "params:ray"]
# every reference baseline, by the node's keyword for it: teacher.ngram_members picks among them
NGRAM_FITTING = {
    "examples": "train_dev_examples",
    "params": "params:teacher",
    **{name: f"baseline_{name}" for name in BASELINES},
}
SETTINGS = {"params": "params:teacher", "soft_target_params": "params:soft_targets"}


def teacher_at(seed: int) -> Node:
    """One more teacher, fine-tuned like the main one at ``seed`` (``seed_<n>.fine_tune_teacher``)."""
    return trained_at_seed(fine_tune_teacher_at_seed, FINE_TUNING, "teacher", seed, "fine_tune_teacher")


def create_pipeline(seeds: tuple[int, ...] = (), **kwargs) -> Pipeline:
    """The teacher: base, fine-tune, n-gram members, weights and fingerprint; one more fine-tuned
    teacher at each of ``seeds`` (``variants.yml`` teacher_seeds)."""
    combined = {**teacher_members(seeds), **SETTINGS}
    return Pipeline(
        [
            step(prepare_teacher_base, ["teacher_checkpoint", "params:teacher"], "teacher_base"),
            step(fine_tune_teacher, FINE_TUNING, ["teacher", "teacher_training_log"], "fine_tune_teacher"),
            *(seed_variant(seed, [teacher_at(seed)]) for seed in seeds),
            step(fit_ngram_teachers, NGRAM_FITTING, ["teacher_ngram", "teacher_ngram_log"]),
            step(choose_teacher_weights, {**combined, "examples": "train_dev_examples"}, "teacher_weights"),
            step(
                fingerprint_teacher, {**combined, "teacher_weights": "teacher_weights"}, "teacher_fingerprint"
            ),
        ],
        namespace="teacher",
        prefix_datasets_with_namespace=False,
    )
