"""Predict pipeline wiring: the inference half of the MLflow model (see pipeline_registry) and
`kedro run --pipeline predict` over a CSV of texts."""

from importlib.metadata import version

import pandas as pd
from kedro.pipeline import Pipeline
from mlflow.models import infer_signature

from text_distill.pipelines import step

from .nodes import predict_labels, screen_texts_to_predict

INPUT = "texts_to_predict"
SERVED_MODEL_NAME = "text_distill_student"
# what the served model needs (served with `--env-manager local` from the project's environment)
SERVED_MODEL_REQUIREMENTS = (
    "torch",
    "kedro",
    "kedro-datasets",
    "kedro-mlflow",
    "mlflow",
    "pandas",
    "jieba",
    "rjieba",
    "onnxruntime",
)
# the served model's input example: MLflow stores it with the model (the UI and `mlflow models
# serve` show the request it takes) and, logging the model, answers it once, a check that it serves
EXAMPLE_TEXTS = ("中国队夺得世界杯冠军", "央行宣布下调存款准备金率")


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            step(screen_texts_to_predict, [INPUT, "params:predict"], "screened_texts"),
            step(
                predict_labels,
                ["screened_texts", "serving_student", "student_onnx", "student_onnx_int8", "params:predict"],
                "predictions",
            ),
        ],
        namespace="predict",
        prefix_datasets_with_namespace=False,
    )


def served_model_kwargs() -> dict:
    """``mlflow.pyfunc.log_model`` arguments of the served model: its name in the registry, the
    input it takes (a ``text`` column: the signature inferred from two headlines, which are its
    input example) and its requirements (given, so MLflow does not load the model once more to
    infer them)."""
    example = pd.DataFrame({"text": list(EXAMPLE_TEXTS)})
    return {
        "name": "model",
        "registered_model_name": SERVED_MODEL_NAME,
        "signature": infer_signature(example),
        "input_example": example,
        "pip_requirements": [f"{package}=={version(package)}" for package in SERVED_MODEL_REQUIREMENTS],
    }
