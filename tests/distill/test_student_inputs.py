"""The student's eleven catalog inputs as one bundle, and nodes written over it keeping the
signature Kedro binds the catalog entries to."""

import dataclasses
import functools
import inspect

import pytest
from kedro.pipeline import Node
from tests.sweep_inputs import FINGERPRINT, student_inputs

from text_distill.distill.data.soft_targets import SoftTargetMismatchError
from text_distill.distill.training.student_inputs import StudentInputs, takes_student_inputs
from text_distill.distill.tuning.trials import Study, study_node
from text_distill.pipelines.temperature_sweep.pipeline import retraining_inputs

FIELDS = [field.name for field in dataclasses.fields(StudentInputs)]
CATALOG = retraining_inputs("params:x")[:11]  # the entries the sweeps wire, in their order


def test_a_node_over_the_bundle_takes_the_entries_by_position_or_name():
    @takes_student_inputs
    def node(inputs: StudentInputs, params: dict, extra: int = 1) -> tuple:
        """A node."""
        return inputs, params, extra

    assert list(inspect.signature(node).parameters) == [*FIELDS, "params", "extra"]
    assert node.__name__ == "node" and node.__doc__ == "A node."
    inputs, params, extra = node(*student_inputs(), {"a": 1})
    assert isinstance(inputs, StudentInputs) and params == {"a": 1} and extra == 1
    assert (
        inputs.soft_targets["teacher_fingerprint"].eq(FINGERPRINT).all() and inputs.label_names[0] == "sports"
    )
    by_name = node(**dict(zip(FIELDS, student_inputs(), strict=True)), params={}, extra=2)
    assert by_name[2] == 2


def test_the_bundle_checks_the_cache_and_gives_the_trainer_its_data():
    inputs = StudentInputs(*student_inputs())
    assert inputs.checked() is inputs
    with pytest.raises(SoftTargetMismatchError, match="have no cached logits"):  # a cache missing a row
        dataclasses.replace(inputs, soft_targets=inputs.soft_targets.iloc[1:]).checked()
    assert inputs.data().label_names == inputs.label_names


def test_a_study_node_is_wired_like_the_student_stage():
    @study_node
    def study(study: Study, params: dict) -> tuple:
        return study, params

    wiring = retraining_inputs("params:x")
    assert wiring == [*CATALOG, "params:student", "params:evaluate", "params:x", "params:ray"]
    assert Node(study, wiring, "runs", name="study").inputs == wiring
    made, params = study(*student_inputs(), {"s": 1}, {"e": 1}, {"p": 1})
    assert made.student_params == {"s": 1} and made.evaluate_params == {"e": 1} and made.ray_params == {}
    assert params == {"p": 1} and study.__name__ == "study"


def test_a_study_node_passes_on_what_the_pipeline_binds_by_keyword():
    @study_node
    def at_temperature(study: Study, params: dict, temperature: float) -> tuple:
        return params, temperature

    bound = functools.partial(at_temperature, temperature=4.0)  # a sweep temperature's node
    assert bound(*student_inputs(), {}, {}, {"p": 1}) == ({"p": 1}, 4.0)
    assert bound(*student_inputs(), {}, {}, {"p": 1}, {"address": None}) == ({"p": 1}, 4.0)
