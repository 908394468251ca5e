"""Shipping the student, on the tiny project of the ``distill_run`` fixture: the MLflow model that
``distill`` registered, served by ``mlflow models serve`` and sent real headlines and bad inputs;
batch predict over a CSV through the real CLI; the ONNX parity report."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import mlflow
import pandas as pd
import pytest
import requests
from mlflow.types import DataType

from text_distill.distill.data.text import segment_words, segment_words_rjieba
from text_distill.distill.models.student import load_student

pytestmark = pytest.mark.integration

MODEL_NAME = "text_distill_student"
BIN = Path(sys.executable).parent


def newest(project: Path, path: str) -> Path:
    """The newest version of a versioned dataset."""
    return sorted((project / "data" / path).glob("*/*"))[-1]


@pytest.fixture(scope="module")
def headlines(distill_run) -> list[str]:
    examples = pd.read_parquet(newest(distill_run, "03_primary/examples.parquet"))
    return examples.loc[examples["split"] == "test", "text"].head(6).tolist()


@pytest.fixture(scope="module")
def student(distill_run):
    return load_student(distill_run / "data/06_models/serving/student")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server(distill_run, tmp_path_factory):
    """``mlflow models serve`` of the newest registered version, on 127.0.0.1, from the project's
    sqlite store; yields its URL and process, stopped (its whole process group) afterwards."""
    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{distill_run / 'mlflow.db'}")
    version = max(int(v.version) for v in client.search_model_versions(f"name='{MODEL_NAME}'"))
    port = free_port()
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": "sqlite:///mlflow.db",
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",  # the server runs the venv's uvicorn
        "KEDRO_DISABLE_TELEMETRY": "1",
    }
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    command = [str(BIN / "mlflow"), "models", "serve", "-m", f"models:/{MODEL_NAME}/{version}"]
    command += ["--env-manager", "local", "-h", "127.0.0.1", "-p", str(port)]
    with open(log, "wb") as output:
        process = subprocess.Popen(
            command, cwd=distill_run, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert process.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "the server did not answer /ping in 180 s"
            try:
                if requests.get(f"{url}/ping", timeout=5).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            time.sleep(1)
        yield url, process
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)


def invoke(url: str, body: str | bytes) -> requests.Response:
    return requests.post(
        f"{url}/invocations",
        data=body.encode() if isinstance(body, str) else body,
        headers={"Content-Type": "application/json"},
        timeout=120,
    )


def test_distill_registers_the_served_model_and_checks_onnx_parity(distill_run):
    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{distill_run / 'mlflow.db'}")
    versions = client.search_model_versions(f"name='{MODEL_NAME}'")  # one per distill run in the project
    version = max(versions, key=lambda v: int(v.version))  # the last run's, as the newest parity file
    assert sorted(int(v.version) for v in versions) == list(range(1, len(versions) + 1))
    run = client.get_run(version.run_id)
    parity = json.loads(newest(distill_run, "08_reporting/onnx_parity.json").read_text())
    assert parity["test_texts"] == 150
    assert parity["onnx_fp32"]["agreement"] == run.data.metrics["onnx_fp32_agreement"] >= 0.995
    assert parity["onnx_fp32"]["max_abs_logit_difference"] < 1e-4
    assert parity["onnx_int8"]["size_bytes"] < parity["onnx_fp32"]["size_bytes"]
    assert "reports/onnx_parity.json" in {
        item.path for item in client.list_artifacts(run.info.run_id, "reports")
    }


def test_a_sampled_run_tags_its_version_and_leaves_the_champion_alias(distill_run):
    """Through kedro-mlflow's real hook: the version is registered before the project's hook tags it
    (the tiny run samples the corpus, so it is no full run) and the report says who holds the alias."""
    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{distill_run / 'mlflow.db'}")
    version = max(client.search_model_versions(f"name='{MODEL_NAME}'"), key=lambda v: int(v.version))
    assert version.tags["full_run"] == "false"
    assert "a sample of the corpus (ingest.max_rows=600)" in version.tags["not_full_reason"]
    assert float(version.tags["student_accuracy_mean"]) > 0 and version.tags["test_rows"] == "150"
    assert "champion" not in client.get_registered_model(MODEL_NAME).aliases
    summary = json.loads((distill_run / "data/08_reporting/distill_summary.json").read_text())
    assert summary["served_model"]["this_run_version"] == str(version.version)
    assert summary["served_model"]["took_alias"] is False
    assert summary["test_split"]["sha256"] == version.tags["test_split_sha256"]
    report = (distill_run / "data/08_reporting/distill_report.md").read_text()
    assert f"this run's version {version.version} does not take it, this run is not a full run" in report


def test_the_served_model_is_logged_with_its_signature_and_an_input_example(distill_run, server, tmp_path):
    """No "An input example was not provided" when distill logs the model (issue 25): the model
    holds the text-column signature and two headlines as its example, which the server answers."""
    uri = f"sqlite:///{distill_run / 'mlflow.db'}"
    client = mlflow.MlflowClient(tracking_uri=uri)
    version = max(client.search_model_versions(f"name='{MODEL_NAME}'"), key=lambda v: int(v.version))
    local = Path(
        mlflow.artifacts.download_artifacts(version.source, dst_path=str(tmp_path), tracking_uri=uri)
    )
    model = mlflow.models.Model.load(local / "MLmodel")
    assert model.signature.inputs.input_names() == ["text"]
    assert model.signature.inputs.input_types() == [DataType.string]
    example = model.load_input_example(str(local))
    assert list(example.columns) == ["text"] and len(example) == 2
    url, _ = server
    response = invoke(url, (local / "serving_input_example.json").read_text())
    assert response.status_code == 200, response.text
    assert [row["status"] for row in response.json()["predictions"]] == ["ok", "ok"]


def test_served_model_labels_real_headlines_as_the_student_does(server, headlines, student):
    url, _ = server
    response = invoke(
        url, json.dumps({"dataframe_split": {"columns": ["text"], "data": [[t] for t in headlines]}})
    )
    assert response.status_code == 200, response.text
    rows = response.json()["predictions"]
    expected = student.predict_logits(headlines).argmax(axis=1)
    assert [row["label"] for row in rows] == [student.label_names[i] for i in expected]
    for row in rows:
        assert row["status"] == "ok"
        probabilities = [row[f"prob_{name}"] for name in student.label_names]
        assert sum(probabilities) == pytest.approx(1.0) and row["probability"] == max(probabilities)


def test_served_model_segments_with_the_segmenter_the_student_was_trained_with(server, distill_run, student):
    """``segment.segmenter`` (rjieba by default) travels with the student into the served model:
    a text where rjieba and jieba differ (rjieba keeps ``EB-5`` whole) is labelled from rjieba's
    tokens, as in training."""
    trained_with = json.loads(newest(distill_run, "04_feature/word_segmenter.json").read_text())
    assert student.segmenter.words == trained_with["segmenter"] == "rjieba"
    text = "EB-5投资移民新政出台 iPhone15价格下调"
    trained_tokens = student.segmenter.from_words(segment_words_rjieba(text))  # words or n-grams of them
    assert student.segmenter(text) == trained_tokens != student.segmenter.from_words(segment_words(text))
    url, _ = server
    response = invoke(url, json.dumps({"dataframe_split": {"columns": ["text"], "data": [[text]]}}))
    assert response.status_code == 200, response.text
    row = response.json()["predictions"][0]
    rjieba_logits = student.model(*student.batch([student.ids(trained_tokens)]))
    probabilities = [row[f"prob_{name}"] for name in student.label_names]
    expected = rjieba_logits.softmax(-1)[0].tolist()
    assert probabilities == pytest.approx(expected, abs=1e-5)


BAD_INPUTS = {  # the value of the text column -> (status, whether it is labelled)
    "": ("empty_text", False),
    " \t\n ": ("empty_text", False),
    "新" * 20_000: ("truncated", True),
    "😀🎉🔥": ("ok", True),
    "The central bank raised interest rates again": ("ok", True),
    "2024123456": ("ok", True),
    None: ("missing_text", False),
    12345: ("not_text", False),
}


def test_served_model_answers_every_bad_input_and_stays_up(server, headlines):
    url, process = server
    # each bad value alone, then all of them in one request with a real headline
    for value, (status, labelled) in BAD_INPUTS.items():
        response = invoke(url, json.dumps({"dataframe_records": [{"text": value}]}))
        assert response.status_code == 200, (repr(value)[:40], response.text[:500])
        (row,) = response.json()["predictions"]
        assert row["status"] == status and (row["label"] is not None) == labelled, repr(value)[:40]
        if not labelled:
            assert row["probability"] is None
    mixed = [headlines[0], *BAD_INPUTS]
    response = invoke(url, json.dumps({"dataframe_records": [{"text": value} for value in mixed]}))
    assert response.status_code == 200, response.text[:500]
    statuses = [row["status"] for row in response.json()["predictions"]]
    assert statuses == ["ok", *(status for status, _ in BAD_INPUTS.values())]

    for body, message in [
        ('{"dataframe_split": {"columns": ["text"], "data": [["中国', "Invalid input"),  # malformed JSON
        (b"\xff\xfe not utf-8", "Invalid input"),
        ('{"dataframe_records": [{"title": "中国队夺冠"}]}', "Model is missing inputs ['text']"),
        ('{"unexpected": []}', "dataframe_split"),
    ]:
        response = invoke(url, body)
        assert 400 <= response.status_code < 500, (body, response.status_code, response.text[:300])
        assert message in response.json()["message"]
    assert requests.get(f"{url}/ping", timeout=5).status_code == 200
    assert process.poll() is None


def kedro(project: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "HF_HUB_OFFLINE": "1", "COLUMNS": "200"}
    command = [sys.executable, "-m", "kedro", "run", "--env", "tiny", "--pipeline", "predict", *args]
    return subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=300)


def test_batch_predict_writes_a_row_per_text(distill_run, headlines, student, tmp_path):
    """Through the real CLI, with the ONNX runtime (the served model above runs torch); one run, as
    each CLI start costs the suite a minute on a busy machine."""
    texts = pd.DataFrame(
        {"id": range(100, 100 + len(headlines) + 4), "text": [*headlines, "", "  ", "NA", "😀"]}
    )
    texts.to_csv(tmp_path / "texts.csv", index=False)
    output = tmp_path / "predictions.csv"
    params = f"texts_to_predict={tmp_path / 'texts.csv'},predictions={output},predict.runtime=onnx"
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "HF_HUB_OFFLINE": "1"}
    command = [
        sys.executable,
        "-m",
        "kedro",
        "run",
        "--env",
        "tiny",
        "--pipeline",
        "predict",
        "--params",
        params,
    ]
    result = subprocess.run(command, cwd=distill_run, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    predictions = pd.read_csv(output, keep_default_na=False)
    assert predictions["id"].tolist() == texts["id"].tolist() and "text" not in predictions.columns
    assert predictions["status"].tolist() == ["ok"] * len(headlines) + [
        "empty_text",
        "empty_text",
        "ok",
        "ok",
    ]
    expected = student.predict_logits([*headlines, "NA", "😀"]).argmax(axis=1)
    labelled = predictions[predictions["status"] == "ok"]
    assert labelled["label"].tolist() == [student.label_names[i] for i in expected]
    assert predictions["label"].tolist()[len(headlines) : len(headlines) + 2] == ["", ""]
