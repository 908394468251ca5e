"""Export and predict nodes: the parity report and its guard, the runtime parameter."""

import pandas as pd
import pytest
import torch

from text_distill.distill.export.onnx_export import OnnxParityError
from text_distill.distill.models.student import StudentClassifier
from text_distill.distill.students.bilstm import BiLSTMClassifier
from text_distill.errors import TextDistillError
from text_distill.pipelines.export.nodes import check_onnx_parity, export_student
from text_distill.pipelines.predict.nodes import predict_labels, screen_texts_to_predict

VOCABULARY = [
    "<pad>",
    "<unk>",
    *"中国队夺得冠军篮球比赛今晚开始股市大涨银行利率下调基金收益创新高央行发布报告",
]
EXPORT = {"threads": 1, "batch_size": 4, "min_agreement": 0.995}
PREDICT = {"runtime": "torch", "max_chars": 100, "batch_size": 4, "threads": 1}


def small_student(seed: int) -> StudentClassifier:
    torch.manual_seed(seed)
    network = BiLSTMClassifier(len(VOCABULARY), 2, embedding_dim=6, hidden_size=6)
    return StudentClassifier(network, VOCABULARY, "char", ["sports", "finance"], max_tokens=16).eval()


@pytest.fixture(scope="module")
def exported():
    return export_student(small_student(0), EXPORT)


def test_parity_report_on_the_test_split(exported, examples_frame):
    student, onnx_model, int8_model = exported
    report, metrics = check_onnx_parity(student, onnx_model, int8_model, examples_frame, EXPORT)
    assert report["test_texts"] == 2
    assert report["onnx_fp32"]["agreement"] == 1.0 and report["onnx_fp32"]["max_abs_logit_difference"] < 1e-5
    assert report["onnx_int8"]["size_bytes"] < report["onnx_fp32"]["size_bytes"]
    assert metrics["onnx_fp32_agreement"] == {"value": 1.0, "step": 0}
    assert set(metrics) == {
        "onnx_fp32_agreement",
        "onnx_fp32_accuracy",
        "onnx_int8_agreement",
        "onnx_int8_accuracy",
    }


def test_an_export_that_disagrees_with_the_student_fails_the_run(exported, examples_frame):
    _, onnx_model, int8_model = exported
    other = small_student(1)  # another network's export stands in for a broken one
    test = examples_frame[examples_frame["split"] == "test"]
    if (
        other.predict_logits(test["text"].tolist()).argmax(1)
        == exported[0].predict_logits(test["text"].tolist()).argmax(1)
    ).all():
        pytest.skip("the two random students happen to agree on the test texts")
    with pytest.raises(OnnxParityError, match="onnx_fp32 student agrees with the torch student on"):
        check_onnx_parity(other, onnx_model, int8_model, examples_frame, EXPORT)


@pytest.mark.parametrize("runtime", ["torch", "onnx", "onnx_int8"])
def test_each_runtime_labels_the_same_rows(exported, runtime):
    student, onnx_model, int8_model = exported
    texts = pd.DataFrame({"text": ["中国队夺得冠军", "", "股市大涨 银行利率下调"]})
    screened = screen_texts_to_predict(texts, PREDICT)
    out = predict_labels(screened, student, onnx_model, int8_model, {**PREDICT, "runtime": runtime})
    torch_out = predict_labels(screened, student, onnx_model, int8_model, PREDICT)
    assert out["status"].tolist() == ["ok", "empty_text", "ok"]
    tolerance = 1e-5 if runtime != "onnx_int8" else 0.05
    assert out["prob_sports"][[0, 2]].tolist() == pytest.approx(
        torch_out["prob_sports"][[0, 2]].tolist(), abs=tolerance
    )


def test_an_unknown_runtime_is_refused(exported):
    screened = screen_texts_to_predict(pd.DataFrame({"text": ["中国队"]}), PREDICT)
    with pytest.raises(
        TextDistillError, match=r"predict.runtime must be one of \['torch', 'onnx', 'onnx_int8'\]"
    ):
        predict_labels(screened, *exported, {**PREDICT, "runtime": "tensorrt"})


def test_batch_predict_never_overwrites_an_input_column(exported):
    texts = pd.DataFrame({"id": [1], "text": ["中国队夺得冠军"], "label": ["sports"]})  # a gold label
    with pytest.raises(
        TextDistillError, match=r"column\(s\) \['label'\], which the predictions would overwrite"
    ):
        screen_texts_to_predict(texts, PREDICT)
