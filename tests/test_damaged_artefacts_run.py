"""A run after a fault left a truncated file behind (issue 25, item 2), in a copy of the ``distill_run``
project: a damaged soft-target store partition heals (moved aside, its texts scored again, the same
soft targets); a damaged teacher stops ``kedro run`` in one line naming the file and the rebuild."""

import shutil

import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml

from tests.conftest import kedro_cli, run_pipeline
from tests.test_distill_pipeline import latest, versions

pytestmark = pytest.mark.integration


@pytest.fixture
def project(distill_run, tmp_path):
    """A copy: the shared project's versions and MLflow runs stay as the other modules count them. It
    tracks to its own MLflow file by absolute path: MLflow caches a store by its URI, and the relative
    default would still mean the shared project's file."""
    copy = shutil.copytree(distill_run, tmp_path / "project")
    tracking = {"server": {"mlflow_tracking_uri": f"sqlite:///{copy / 'mlflow.db'}"}}
    (copy / "conf" / "tiny" / "mlflow.yml").write_text(yaml.safe_dump(tracking))
    return copy


def truncate(path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def newest_soft_targets(project) -> pd.DataFrame:
    (version,) = versions(project, "07_model_output/soft_targets.parquet")[-1:]
    return pd.read_parquet(
        project / "data/07_model_output/soft_targets.parquet" / version / "soft_targets.parquet"
    )


def test_a_truncated_store_partition_heals_and_the_soft_targets_are_the_same(project, caplog):
    before = newest_soft_targets(project)
    partition = max(
        (project / "data/07_model_output/soft_target_store").glob("*/*.parquet"),
        key=lambda p: p.stat().st_size,
    )
    rows = pq.read_metadata(partition).num_rows
    truncate(partition)
    with caplog.at_level("WARNING"):
        run_pipeline(project, "soft_targets")
    assert latest(project, "08_reporting/teacher_labelling.json")["teacher_forward_texts"] == rows
    pd.testing.assert_frame_equal(newest_soft_targets(project), before, atol=1e-5)
    (warning,) = [r.getMessage() for r in caplog.records if "is damaged" in r.getMessage()]
    assert warning.startswith(f"{partition} is damaged (")
    assert warning.endswith(f"moved aside to {partition.name}.damaged; its rows are computed again")
    assert partition.is_file() and (partition.parent / f"{partition.name}.damaged").is_file()


def test_a_truncated_teacher_stops_the_run_in_one_line_naming_it(project):
    (weights,) = sorted((project / "data/06_models/teacher").glob("*/teacher/model.safetensors"))[-1:]
    truncate(weights)
    result = kedro_cli(project, "--pipeline", "soft_targets", env="tiny")
    assert result.exit_code == 2, result.output[-2000:]
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert line.startswith(f"Error: {weights} is damaged (")
    assert line.endswith("were written): rebuild it with `kedro run --pipeline teacher`")
    assert "Traceback" not in result.output
