"""ONNX export of the students: the masked BiLSTM equals the packed one, the fp32 export gives the
torch logits for batches and lengths it never saw, the int8 export stays close and is smaller."""

import numpy as np
import onnx
import pytest
import torch

from text_distill.distill.export.onnx_export import OnnxNetwork, export_onnx, quantise_int8
from text_distill.distill.models.student import StudentClassifier
from text_distill.distill.students.bilstm import BiLSTMClassifier, MaskedBiLSTM
from text_distill.distill.students.ngram import BagOfNgramsClassifier
from text_distill.distill.students.textcnn import TextCNNClassifier

VOCABULARY = ["<pad>", "<unk>", *"中国队夺得冠军篮球比赛今晚开始股市大涨银行利率下调"]
LABELS = ["sports", "finance", "other"]
TEXTS = [
    "中国队夺得冠军",
    "股市",
    "篮球比赛今晚开始 银行利率下调 中国队夺得冠军 股市大涨",
    "",
    "x",
    "今晚 😀 开始",
    "银行利率下调银行利率下调银行利率下调银行利率下调银行利率下调",
]
NETWORKS = {
    "bilstm": lambda: BiLSTMClassifier(len(VOCABULARY), len(LABELS), embedding_dim=8, hidden_size=6),
    "textcnn": lambda: TextCNNClassifier(
        len(VOCABULARY), len(LABELS), embedding_dim=8, kernel_sizes=(2, 3), filters=4
    ),
    "ngram": lambda: BagOfNgramsClassifier(len(VOCABULARY), len(LABELS), embedding_dim=8, hidden_size=6),
}


def small_student(architecture: str) -> StudentClassifier:
    torch.manual_seed(0)
    return StudentClassifier(NETWORKS[architecture](), VOCABULARY, "char", LABELS, max_tokens=16).eval()


@pytest.fixture(scope="module", params=sorted(NETWORKS))
def exported(request):
    student = small_student(request.param)
    onnx_model = export_onnx(student)
    return student, onnx_model, quantise_int8(onnx_model)


def test_masked_bilstm_equals_the_packed_one():
    student = small_student("bilstm")
    token_ids, lengths = student.encode(TEXTS)
    with torch.no_grad():
        torch.testing.assert_close(
            MaskedBiLSTM(student.model).eval()(token_ids, lengths), student(token_ids, lengths)
        )


def test_fp32_export_gives_the_torch_logits_at_any_batch_and_length(exported):
    student, onnx_model, _ = exported
    network = OnnxNetwork(onnx_model)
    expected = student.predict_logits(TEXTS)
    for batch_size in (1, 3, len(TEXTS)):  # the export saw a batch of 2 texts of 5 and 3 tokens
        logits = student.predict_logits(TEXTS, batch_size=batch_size, network=network)
        np.testing.assert_allclose(logits, expected, atol=1e-5)


def test_int8_export_is_quantised_smaller_and_close(exported):
    student, onnx_model, int8_model = exported
    operators = {node.op_type for node in onnx.load_from_string(int8_model).graph.node}
    assert {"DynamicQuantizeLinear", "MatMulInteger"} <= operators
    if isinstance(student.model, BiLSTMClassifier):
        assert "DynamicQuantizeLSTM" in operators and "LSTM" not in operators
    assert len(int8_model) < len(onnx_model)
    logits = student.predict_logits(TEXTS, network=OnnxNetwork(int8_model))
    np.testing.assert_allclose(logits, student.predict_logits(TEXTS), atol=0.05)
