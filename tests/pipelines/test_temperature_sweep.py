"""The temperature sweep as Kedro runs it, on an in-memory catalog: one node per temperature (a
variant of the graph), each a record of its own, then the table. The Ray engine is checked against
this one in tests/distill/test_ray_training.py."""

from typing import Any

import pytest
from kedro.runner import SequentialRunner, ThreadRunner
from tests.sweep_inputs import STUDENT, SWEEP, TEMPERATURES, run_sweep

from text_distill.errors import TextDistillError


@pytest.fixture(scope="module")
def sweep() -> dict[str, Any]:
    return run_sweep(SequentialRunner(), SWEEP)


def test_each_temperature_writes_its_own_run_named_by_t(sweep):
    at_1, at_4 = sweep["temperature_sweep_T_1"], sweep["temperature_sweep_T_4"]
    assert list(at_1) == ["T=1"] and list(at_4) == ["T=4"]
    for temperature, record in ((1.0, at_1["T=1"]), (4.0, at_4["T=4"])):
        assert record["params"]["objective.temperature"] == temperature
        assert record["params"]["objective.kd_loss"] == "kl" and record["params"]["objective.alpha"] == 0.3
        assert record["metrics"]["temperature"] == temperature
        assert len(record["history"]) == STUDENT["optimiser"]["epochs"]
    assert at_1["T=1"]["history"] != at_4["T=4"]["history"]  # T reached the loss


def test_the_table_has_a_row_per_temperature_from_the_runs(sweep):
    table = sweep["temperature_sweep_table"]
    assert table["temperature"].tolist() == list(TEMPERATURES)
    for row, name in zip(table.itertuples(), ("temperature_sweep_T_1", "temperature_sweep_T_4"), strict=True):
        (record,) = sweep[name].values()
        assert row.test_accuracy == record["metrics"]["test_accuracy"]
        assert row.dev_macro_f1 == record["metrics"]["dev_macro_f1"]


def test_the_local_engine_refuses_the_thread_runner_in_one_line():
    """Two local trials in threads of one process would share torch's seed and thread count."""
    message = "temperature_sweep.engine local trains in this process: run it with the default"
    with pytest.raises(TextDistillError, match=message):
        run_sweep(ThreadRunner(), SWEEP)
