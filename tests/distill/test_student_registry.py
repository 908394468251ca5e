"""A student kind is one module and its registration: a toy kind registered from the tests runs
through training (distilled and alone), the student directory, the ONNX export and prediction of raw
text, with no line elsewhere naming it."""

import importlib
import json
import sys
from collections.abc import Iterator
from types import ModuleType

import numpy as np
import pandas as pd
import pytest
from tests.recipes import DEFAULT_RECIPE
from tests.sweep_inputs import student_inputs

from text_distill.datasets.student_dir import StudentDirectoryDataset
from text_distill.distill.export.onnx_export import OnnxNetwork, export_onnx
from text_distill.distill.export.serving import label_texts, screen_texts
from text_distill.distill.models.student_kinds import StudentKindError
from text_distill.distill.students import STUDENT_KINDS, StudentKind, register_student
from text_distill.distill.students.ngram import BagOfNgramsClassifier, NgramOptions
from text_distill.distill.training.recipe import RecipeError, StudentRecipe, merge
from text_distill.distill.training.student_training import StudentData, Transfer, train_alone, train_distilled

TOY_MODULE = "tests.toy_student"
TOY = {
    "model": {"architecture": "toy", "unit": "char", "max_tokens": 16, "toy": {"scale": 2.0}},
    "optimiser": {"epochs": 3, "min_steps": None, "batch_size": 4},
    "runtime": {"seed": 0, "threads": 1, "progress": False},
}


@pytest.fixture
def toy_kind() -> Iterator[ModuleType]:
    """The toy kind registered (by importing its module) for one test, then gone again."""
    module = importlib.import_module(TOY_MODULE)
    yield module
    STUDENT_KINDS.unregister("toy")
    sys.modules.pop(TOY_MODULE)


def test_a_toy_student_trains_saves_loads_exports_and_predicts(toy_kind, tmp_path):
    inputs = student_inputs()
    examples, labels = inputs["examples"], inputs["label_names"]
    soft_targets, transfer, teacher = inputs["soft_targets"], inputs["transfer_targets"], inputs["teacher"]
    vectors = tuple(
        inputs[f"{unit}_{part}"] for unit in ("word", "char") for part in ("vocabulary", "embeddings")
    )
    data = StudentData.of(examples, inputs["segmented"], vectors, inputs["word_segmenter"], labels)
    recipe = StudentRecipe.from_params(merge(DEFAULT_RECIPE.as_params(), TOY))
    assert recipe.as_params()["model"]["toy"] == {"scale": 2.0}  # its block, typed by its options

    distilled, log = train_distilled(data, soft_targets, Transfer.of(transfer), teacher, recipe)
    alone, alone_log = train_alone(data, None, recipe)
    assert isinstance(distilled.model, toy_kind.MeanOfEmbeddings) and distilled.unit == "char"
    assert log["transfer_rows"] > 0 and "train_kd" in log["history"][0]
    assert "train_kd" not in alone_log["history"][0] and len(alone_log["history"]) == 3

    dataset = StudentDirectoryDataset(str(tmp_path / "student"))
    dataset.save(distilled)
    assert json.loads((tmp_path / "student" / "config.json").read_text())["architecture"] == "toy"
    loaded = dataset.load()
    texts = examples["text"].tolist()
    np.testing.assert_array_equal(loaded.predict_logits(texts), distilled.predict_logits(texts))

    network = OnnxNetwork(export_onnx(loaded))
    screened = screen_texts(pd.DataFrame({"id": range(len(texts) + 2), "text": [*texts, " ", None]}), 100)
    by_torch = label_texts(screened, loaded, batch_size=4)
    by_onnx = label_texts(screened, loaded, batch_size=4, network=network)
    assert by_onnx["label"].tolist() == by_torch["label"].tolist()
    np.testing.assert_allclose(
        by_onnx["probability"].dropna().astype(float),
        by_torch["probability"].dropna().astype(float),
        atol=1e-5,
    )
    assert set(by_torch["label"][: len(texts)]) <= set(labels)
    assert by_torch["status"].tolist()[-2:] == ["empty_text", "missing_text"]


def test_a_recipe_names_a_kind_only_while_it_is_registered(toy_kind):
    params = merge(DEFAULT_RECIPE.as_params(), TOY)
    with pytest.raises(RecipeError, match=r"^student.model.toy.scale must be a number, got 'none'$"):
        StudentRecipe.from_params(merge(params, {"model": {"toy": {"scale": "none"}}}))
    with pytest.raises(RecipeError, match=r"^student.model lacks toy$"):
        DEFAULT_RECIPE.override({})
    STUDENT_KINDS.unregister("toy")
    with pytest.raises(RecipeError, match="student.model.architecture must be one of"):
        DEFAULT_RECIPE.override({"model": {"architecture": "toy"}})
    register_student(toy_kind.KIND)


def test_a_second_kind_of_the_same_name_is_refused_in_one_line():
    with pytest.raises(StudentKindError, match=r"^a student kind named 'ngram' is already registered$"):
        register_student(StudentKind("ngram", NgramOptions, BagOfNgramsClassifier))
    assert STUDENT_KINDS["ngram"].network_class() is BagOfNgramsClassifier  # the first one stays
