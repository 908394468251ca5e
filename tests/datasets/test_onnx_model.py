"""An ONNX model file as bytes: saved (atomically) and loaded back byte for byte, the bytes an
onnxruntime session is built from."""

import numpy as np
import onnx
import onnxruntime
import pytest
from onnx import TensorProto, helper

from text_distill.datasets.onnx_model import OnnxModelDataset


def doubling_model() -> bytes:
    """A one-node graph, y = x + x, serialised."""
    graph = helper.make_graph(
        [helper.make_node("Add", ["x", "x"], ["y"])],
        "double",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 2])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()


def test_an_onnx_model_round_trips_and_runs(tmp_path):
    dataset = OnnxModelDataset(str(tmp_path / "serving" / "student.onnx"))
    assert not dataset.exists()
    data = doubling_model()
    dataset.save(data)
    assert dataset.exists()
    loaded = dataset.load()
    assert loaded == data and (tmp_path / "serving" / "student.onnx").read_bytes() == data
    session = onnxruntime.InferenceSession(loaded, providers=["CPUExecutionProvider"])
    (output,) = session.run(None, {"x": np.array([[1.0, -2.5]], dtype=np.float32)})
    np.testing.assert_array_equal(output, [[2.0, -5.0]])


def test_a_new_save_replaces_the_file_and_leaves_nothing_beside_it(tmp_path):
    dataset = OnnxModelDataset(str(tmp_path / "student.onnx"))
    dataset.save(b"a first, longer export")
    dataset.save(b"second")
    assert dataset.load() == b"second"
    assert [p.name for p in tmp_path.iterdir()] == ["student.onnx"]


def test_a_directory_at_the_path_is_not_a_model(tmp_path):
    (tmp_path / "student.onnx").mkdir()
    assert not OnnxModelDataset(str(tmp_path / "student.onnx")).exists()


def test_describe_and_a_missing_file(tmp_path):
    dataset = OnnxModelDataset(str(tmp_path / "student.onnx"))
    assert dataset._describe() == {"filepath": str(tmp_path / "student.onnx")}
    with pytest.raises(Exception, match="student.onnx"):
        dataset.load()
