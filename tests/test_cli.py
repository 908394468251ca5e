"""``kedro run`` reports bad input as one clear message with exit code 2, without a stack trace."""

import os
import shutil
import subprocess
import sys

import pytest

from tests.conftest import PROJECT_ROOT


@pytest.fixture
def project(tmp_path):
    shutil.copytree(PROJECT_ROOT / "conf" / "base", tmp_path / "conf" / "base")
    (tmp_path / "conf" / "local").mkdir()
    (tmp_path / "src").mkdir()  # the package itself is installed; Kedro only checks the folder
    shutil.copy(PROJECT_ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def kedro_run(project, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "HF_HUB_OFFLINE": "1", "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "kedro", "run", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the corpus source is empty"),
        ("体育\t中国队夺冠\n财经\t股市大涨\n".encode("gbk"), "set corpus_encoding in conf/base/globals.yml"),
    ],
)
def test_bad_corpus_is_one_clear_error(project, content, message):
    corpus = project / "corpus.tsv"
    corpus.write_bytes(content)
    (project / "conf" / "local" / "catalog.yml").write_text(
        f"corpus_source:\n  type: text.TextDataset\n  filepath: {corpus}\n"
        "  fs_args:\n    open_args_load:\n      encoding: utf-8\n      errors: surrogateescape\n"
    )
    result = kedro_run(project, "--pipeline", "ingest")
    assert result.returncode == 2, result.stderr[-2000:]
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
