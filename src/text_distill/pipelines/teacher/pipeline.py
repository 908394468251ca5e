"""Teacher pipeline wiring."""

from kedro.pipeline import Node, Pipeline

from text_distill.pipelines import seed_variant, step, teacher_members, trained_at_seed
from text_distill.variants import ngram_dataset

from .nodes import (
    choose_teacher_weights,
    fine_tune_teacher,
    fingerprint_teacher,
    fit_ngram_teacher,
    prepare_teacher_base,
)

FINE_TUNING = ["teacher_base", "train_dev_examples", "label_names", "params:teacher", "params:ray"]
SETTINGS = {"params": "params:teacher", "soft_target_params": "params:soft_targets"}


def teacher_at(seed: int) -> Node:
    """One more teacher, fine-tuned like the main one at ``seed`` (``seed_<n>.fine_tune_teacher``)."""
    return trained_at_seed(fine_tune_teacher, FINE_TUNING, "teacher", seed, "fine_tune_teacher")


def ngram_member(member: str) -> Pipeline:
    """The reference baseline ``member`` cross-fitted as a teacher, the namespaced pipeline
    ``<member>`` (``teacher.tfidf_char_svm.fit_ngram_teacher``)."""
    inputs = ["train_dev_examples", f"baseline_{member}", "params:teacher"]
    outputs = [ngram_dataset(member), ngram_dataset(member, "log")]
    return Pipeline(
        [step(fit_ngram_teacher, inputs, outputs)], namespace=member, prefix_datasets_with_namespace=False
    )


def create_pipeline(seeds: tuple[int, ...] = (), ngram_members: tuple[str, ...] = (), **kwargs) -> Pipeline:
    """The teacher: base, fine-tune, weights and fingerprint; one more fine-tuned teacher at each of
    ``seeds`` and one cross-fitted n-gram teacher per ``ngram_members`` (``variants.yml``)."""
    combined = {**teacher_members(seeds, ngram_members), **SETTINGS}
    return Pipeline(
        [
            step(prepare_teacher_base, ["teacher_checkpoint", "params:teacher"], "teacher_base"),
            step(fine_tune_teacher, FINE_TUNING, ["teacher", "teacher_training_log"], "fine_tune_teacher"),
            *(seed_variant(seed, [teacher_at(seed)]) for seed in seeds),
            *(ngram_member(member) for member in ngram_members),
            step(choose_teacher_weights, {**combined, "examples": "train_dev_examples"}, "teacher_weights"),
            step(
                fingerprint_teacher,
                {**combined, "teacher_weights": "teacher_weights", "examples": "train_dev_examples"},
                "teacher_fingerprint",
            ),
        ],
        namespace="teacher",
        prefix_datasets_with_namespace=False,
    )
