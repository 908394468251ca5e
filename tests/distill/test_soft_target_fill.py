"""Labelling through the store (``distill.labelling.soft_target_fill``): which teachers, what precision, the
report's metrics; the scoring itself is tested through the stage (tests/pipelines)."""

import pytest

from text_distill.distill.data.soft_targets import SoftTargetMismatchError
from text_distill.distill.labelling.soft_target_fill import (
    labelling_metrics,
    scoring_precision,
    teacher_members,
)
from text_distill.distill.models.baselines import CrossFittedBaseline


def test_the_teachers_must_be_those_the_fingerprint_names():
    fingerprint = {"members": {"seed_0": "a", "seed_1": "b"}}
    assert teacher_members("main", {"seed_1": "other"}, fingerprint) == ["main", "other"]
    ngram = {"members": {"seed_0": "a", "seed_1": "b", "tfidf_char_svm": "c"}}
    svm = CrossFittedBaseline.__new__(CrossFittedBaseline)  # only its kind is read
    # transformers first, then the n-gram members, whatever order they come in
    assert teacher_members("main", {"tfidf_char_svm": svm, "seed_1": "other"}, ngram) == [
        "main",
        "other",
        svm,
    ]
    with pytest.raises(SoftTargetMismatchError, match=r"are \[\] but the fingerprint names \['seed_1'\]"):
        teacher_members("main", {}, fingerprint)
    with pytest.raises(SoftTargetMismatchError, match="rerun `kedro run --pipeline teacher`"):
        teacher_members("main", {"seed_2": "other"}, fingerprint)  # as many, but another one


def test_the_store_is_scored_in_the_fingerprints_precision():
    assert scoring_precision({}, {"precision": "auto"}, "cpu") == "float32"  # older fingerprints
    assert scoring_precision({"precision": "float32"}, {"precision": "float32"}, "cpu") == "float32"
    with pytest.raises(
        SoftTargetMismatchError, match="rerun `kedro run --from-nodes teacher.fingerprint_teacher`"
    ):
        scoring_precision({"precision": "bf16"}, {"precision": "float32"}, "cpu")


def test_the_report_numbers_become_metrics():
    report = {
        "transfer_rows": 10,
        "store_hits": 4,
        "precision": "float32",
        "device": "cpu",
        "engine": "local",
    }
    assert labelling_metrics(report) == {
        "soft_targets_transfer_rows": {"value": 10.0, "step": 0},
        "soft_targets_store_hits": {"value": 4.0, "step": 0},
        "soft_targets_bf16": {"value": 0.0, "step": 0},
        "soft_targets_cuda": {"value": 0.0, "step": 0},
    }
