"""scripts/prune_versions.py keeps the newest versions of each versioned dataset, and only deletes
with --apply."""

import subprocess
import sys

from tests.conftest import PROJECT_ROOT

SCRIPT = PROJECT_ROOT / "scripts" / "prune_versions.py"
VERSIONS = ["2026-11-28T10.00.00.000Z", "2026-11-29T10.00.00.000Z", "2026-11-30T10.00.00.000Z"]


def test_keeps_the_newest_versions_of_each_dataset_and_deletes_only_with_apply(tmp_path):
    data = tmp_path / "data"
    for dataset in ("06_models/teacher", "08_reporting/report.json"):
        for version in VERSIONS:
            (data / dataset / version / "x").mkdir(parents=True)
            (data / dataset / version / "x" / "weights").write_bytes(b"0" * 1000)
    unversioned = data / "06_models" / "teacher_base"
    unversioned.mkdir(parents=True)

    def prune(*args: str) -> str:
        command = [sys.executable, str(SCRIPT), "--data", str(data), *args]
        return subprocess.run(command, check=True, capture_output=True, text=True).stdout

    listed = prune("--keep", "2")
    assert listed.count("would delete") == 2 and VERSIONS[0] in listed and VERSIONS[1] not in listed
    assert all((data / "06_models/teacher" / v).exists() for v in VERSIONS)  # a dry run
    prune("--keep", "2", "--apply")
    for dataset in ("06_models/teacher", "08_reporting/report.json"):
        assert sorted(p.name for p in (data / dataset).iterdir()) == VERSIONS[1:]
    assert unversioned.exists()
    result = subprocess.run([sys.executable, str(SCRIPT), "--keep", "0"], capture_output=True, text=True)
    assert result.returncode == 2 and "--keep must be at least 1" in result.stderr
