"""Compare: a markdown table of the newest distill runs from a frame shaped like mlflow.search_runs."""

import pandas as pd

from text_distill.pipelines.compare.nodes import compare_runs

PARAMS = {
    "runs": 2,
    "require": "student_accuracy",
    "params": ["student.kd_loss"],
    "metrics": ["student_accuracy", "student_texts_per_second"],
}


def test_newest_distill_runs_only_with_chosen_columns():
    runs = pd.DataFrame(
        {
            "run_id": ["c" * 32, "b" * 32, "a" * 32, "d" * 32],
            "start_time": pd.to_datetime(
                ["2026-11-22 10:03", "2026-11-22 10:02", "2026-11-22 10:01", "2026-11-22 10:00"]
            ),
            "params.student.kd_loss": ["kl", None, "mse", "a|b"],
            "metrics.student_accuracy": [0.91, None, 0.9, 0.8],  # the second is a sweep
            "metrics.student_texts_per_second": [7572.4, None, 7000.0, 1.0],
        }
    )
    table = compare_runs(runs, PARAMS)
    lines = table.splitlines()
    assert lines[0] == "# The last 2 distill runs"
    assert lines[4] == "| run | student.kd_loss | student_accuracy | student_texts_per_second |"
    assert lines[6] == f"| 2026-11-22 10:03 `{'c' * 8}` | kl | 0.9100 | 7,572 |"
    assert lines[7].startswith(f"| 2026-11-22 10:01 `{'a' * 8}` | mse | 0.9000 |")
    assert len(lines) == 8


def test_an_empty_store_says_what_to_do():
    table = compare_runs(pd.DataFrame({"run_id": [], "start_time": []}), PARAMS)
    assert "run `make distill` first" in table
