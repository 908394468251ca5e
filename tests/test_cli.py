"""``kedro run`` reports bad input as one clear message with exit code 2, without a stack trace (the
project's CLI in this process), and a run stopped by a signal is not left RUNNING in MLflow (a real
``kedro run`` process)."""

import os
import signal
import subprocess
import sys
import time

import mlflow
import pytest

from tests.conftest import bare_project, kedro_cli
from text_distill.hooks import STOP_SIGNALS, MlflowArtifactHook

pytestmark = pytest.mark.integration


@pytest.fixture
def project(tmp_path):
    return bare_project(tmp_path)


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
    result = kedro_cli(project, "--pipeline", "ingest")
    assert result.exit_code == 2, result.output[-2000:]
    assert message in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty (not even a header line)"),
        (
            "id,text\n1,中国队夺冠\n".encode("gbk"),
            "it is not utf-8 text (undecodable byte 0xd6): save it as UTF-8",
        ),
        (
            'id,text\n1,"中国队夺冠\n2,股市大涨\n'.encode(),
            "it is not well-formed CSV (Error tokenizing data.",
        ),
    ],
)
def test_unreadable_texts_to_predict_are_one_clear_error(project, content, message):
    texts = project / "texts.csv"
    texts.write_bytes(content)
    result = kedro_cli(project, "--pipeline", "predict", "--params", f"texts_to_predict={texts}")
    assert result.exit_code == 2, result.output[-2000:]
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert line.startswith(f"Error: cannot read texts_to_predict ({texts}): {message}")
    assert "Traceback" not in result.output


def test_a_refused_run_is_failed_in_mlflow_with_the_reason(project):
    """Refused by the recipe check before the first node, after kedro-mlflow opened the run: it was
    left active and MLflow's exit handler ended it FINISHED, with no metrics (issue 25)."""
    result = kedro_cli(project, "--pipeline", "distill", "--params", "student.no_such_key=1")
    assert result.exit_code == 2, result.output[-2000:]
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert "no_such_key" in line and "Traceback" not in result.output
    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
    (run,) = client.search_runs([client.get_experiment_by_name("text_distill").experiment_id])
    assert run.info.status == "FAILED"
    assert run.data.tags["text_distill.failure"] == f"RecipeError: {line.removeprefix('Error: ')}"


def test_a_run_stopped_by_sigterm_is_killed_in_mlflow_not_left_running(project):
    """The corpus is a FIFO nobody writes to: the run waits in ``parse_corpus``'s load until stopped."""
    corpus = project / "corpus.fifo"
    os.mkfifo(corpus)
    (project / "conf" / "local" / "catalog.yml").write_text(
        f"corpus_source:\n  type: text.TextDataset\n  filepath: {corpus}\n"
    )
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "HF_HUB_OFFLINE": "1", "COLUMNS": "200"}
    command = [sys.executable, "-m", "kedro", "run", "--pipeline", "ingest"]
    process = subprocess.Popen(
        command, cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        output = []
        for line in process.stdout:  # until the pipeline waits on the corpus
            output.append(line)
            if "Loading data from corpus_source" in line:
                break
        assert process.poll() is None, "".join(output)[-3000:]
        time.sleep(1)
        process.send_signal(signal.SIGTERM)
        rest, _ = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGTERM, "".join(output)[-2000:] + rest[-2000:]
    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("text_distill")
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.status == "KILLED"


def test_the_signal_handlers_are_put_back_after_the_run():
    before = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}
    hook = MlflowArtifactHook()
    hook.before_pipeline_run()
    assert all(signal.getsignal(signum) is not before[signum] for signum in STOP_SIGNALS)
    hook.on_pipeline_error()
    assert {signum: signal.getsignal(signum) for signum in STOP_SIGNALS} == before
