"""The student's catalog inputs as one bundle, declared once (``pipelines.inputs``) and passed to the
sweep nodes as plain keyword arguments."""

import dataclasses

import pytest
from tests.sweep_inputs import FINGERPRINT, student_inputs, study_inputs

from text_distill.distill.data.soft_targets import SoftTargetMismatchError
from text_distill.distill.training.student_inputs import StudentInputs
from text_distill.distill.tuning.trials import Study
from text_distill.pipeline_registry import register_pipelines
from text_distill.pipelines.inputs import STUDENT_DATA, STUDY, TEACHER_TARGETS, TEST_ROWS

FIELDS = {field.name for field in dataclasses.fields(StudentInputs)}


def test_the_bundle_is_the_declared_student_entries():
    assert set(STUDENT_DATA) | set(TEACHER_TARGETS) == FIELDS
    assert STUDENT_DATA["examples"] == "train_dev_examples"  # never the test rows


def test_the_bundle_checks_the_cache_and_gives_the_trainer_its_data():
    data = student_inputs()
    inputs = StudentInputs(**{name: data[name] for name in FIELDS})
    assert inputs.checked() is inputs
    assert inputs.soft_targets["teacher_fingerprint"].eq(FINGERPRINT).all()
    with pytest.raises(SoftTargetMismatchError, match="have no cached logits"):  # a cache missing a row
        dataclasses.replace(inputs, soft_targets=inputs.soft_targets.iloc[1:]).checked()
    assert inputs.data().label_names == inputs.label_names


def test_a_study_is_made_from_the_entries_by_name():
    study = Study.of(**study_inputs(student_inputs()))
    assert study.ray_params == {} and study.evaluate_params == {"calibration_bins": 5}
    test, logits = study.test.logits()
    assert set(test["split"]) == {"test"} and len(logits) == len(test)
    assert "test" not in set(study.inputs.examples["split"])
    unknown = {**study_inputs(student_inputs()), "dev_examples": None}
    with pytest.raises(TypeError, match="dev_examples"):
        Study.of(**unknown)


def test_the_sweeps_read_the_declared_entries():
    pipelines = register_pipelines()
    for name in ("temperature_sweep", "recipe_search"):
        trials = [node for node in pipelines[name].nodes if "params:student" in node.inputs]
        assert trials
        for node in trials:
            assert set(node.inputs) == {*STUDY.values(), f"params:{name}"}
    assert set(TEST_ROWS.values()) == {"test_examples", "test_soft_targets"}
