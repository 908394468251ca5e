"""Export pipeline wiring."""

from kedro.pipeline import Node, Pipeline

from .nodes import check_onnx_parity, export_student


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                export_student,
                ["student", "params:export"],
                ["serving_student", "student_onnx", "student_onnx_int8"],
                name="export_student",
            ),
            Node(
                check_onnx_parity,
                ["serving_student", "student_onnx", "student_onnx_int8", "test_examples", "params:export"],
                ["onnx_parity", "onnx_parity_metrics"],
                name="check_onnx_parity",
            ),
        ],
        namespace="export",
        prefix_datasets_with_namespace=False,
    )
