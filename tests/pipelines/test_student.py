"""Student stage: distilled and alone, trained from the cache only, refusing a foreign cache."""

import numpy as np
import pandas as pd
import pytest
import torch
from kedro.io import DataCatalog, MemoryDataset
from sklearn.metrics import f1_score
from tests.recipes import DEFAULT_RECIPE
from tests.sweep_inputs import segmented_and_vectors

from text_distill.distill.data.soft_targets import SoftTargetMismatchError, soft_target_table
from text_distill.distill.data.vocab import UNK
from text_distill.distill.labelling.soft_target_fill import TRANSFER_TARGET_COLUMNS
from text_distill.distill.training.recipe import RecipeError, StudentRecipe, merge
from text_distill.hooks import TeacherCheckHook
from text_distill.pipelines.student.nodes import (
    resolve_student_recipe,
    train_distilled_student,
    train_student_alone,
)
from text_distill.pipelines.student.pipeline import create_pipeline

# the teacher (and the pretrained base, for the baseline) are read only by a transformer student:
# None below
PARAMS = DEFAULT_RECIPE.override(
    {
        "model": {
            "architecture": "bilstm",
            "unit": "word",
            "max_tokens": 16,
            "bilstm": {"hidden_size": 16, "dropout": 0.0},
            "textcnn": {"kernel_sizes": [1, 2], "filters": 8, "dropout": 0.0},
            "ngram": {
                "embedding_dim": 8,
                "char_ngrams": [1, 2],
                "word_ngrams": [1, 1],
                "min_freq": 1,
                "max_features": 64,
            },
        },
        "objective": {"alpha": 0.5, "kd_loss": "kl", "temperature": 2.0},
        "optimiser": {
            "epochs": 6,
            "min_steps": None,
            "batch_size": 4,
            "learning_rate": 0.01,
            "weight_decay": 0.0,
            "grad_clip": 5.0,
        },
        "runtime": {"seed": 0, "threads": 1, "progress": False},
    }
).as_params()


def recorded(params: dict) -> dict:
    """The student parameters as the stage records them for its students (``student_recipe``)."""
    return resolve_student_recipe(params, None)


def params_with(**groups: dict) -> dict:
    """``PARAMS`` with some keys of its groups changed."""
    return merge(PARAMS, groups)


NO_TRANSFER = pd.DataFrame(columns=TRANSFER_TARGET_COLUMNS)


@pytest.fixture
def inputs(examples_frame):
    segmented, vectors = segmented_and_vectors(examples_frame, np.random.default_rng(0))
    vectors.append({"segmenter": "jieba"})  # the segment stage's word segmenter
    logits = np.eye(2, dtype=np.float32)[examples_frame["label_id"]] * 4
    cache = soft_target_table(examples_frame, logits, "f" * 64)
    return segmented, examples_frame, cache, vectors, ["finance", "sports"]


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"model": {"architecture": "textcnn", "unit": "char"}},
        {"model": {"architecture": "ngram"}},
        {
            "objective": {
                "kd_loss": "mse",
                "temperature_schedule": "flsw",
                "kd_weight_schedule": "linear_decay",
            }
        },
    ],
)
def test_distilled_student_trains_from_the_cache_and_reads_raw_text(inputs, overrides):
    segmented, examples, cache, vectors, labels = inputs
    params = merge(PARAMS, overrides)
    transfer = pd.DataFrame(  # augmented rows: teacher logits, no hard label
        {
            "source": "augmented",
            "origin_id": [1, 2],
            "teacher_text": ["[MASK]夺得冠军", "篮球比赛"],
            "words": [[UNK, "夺得", "冠军"], ["篮球", "比赛"]],
            "logits": [np.array([0.0, 4.0], np.float32), np.array([0.0, 4.0], np.float32)],
            "teacher_fingerprint": "f" * 64,
        }
    )[TRANSFER_TARGET_COLUMNS]
    student, log = train_distilled_student(
        segmented, examples, cache, transfer, None, *vectors, labels, recorded(params)
    )
    assert log["transfer_rows"] == 2 and log["train_rows"] == 4
    assert [record["epoch"] for record in log["history"]] == [1, 2, 3, 4, 5, 6]
    trained = StudentRecipe.from_params(params).as_params()
    assert log["seed"] == 0 and log["recipe"] == {k: v for k, v in trained.items() if k != "runtime"}
    assert {"train_hard", "train_kd", "dev_macro_f1"} <= set(log["history"][0])
    assert log["history"][-1]["train_loss"] < log["history"][0]["train_loss"]
    dev = examples[examples["split"] == "dev"]
    predicted = student.predict_logits(dev["text"].tolist()).argmax(axis=1)  # raw text, end to end
    best = max(record["dev_macro_f1"] for record in log["history"])
    assert f1_score(dev["label_id"], predicted, average="macro") == pytest.approx(best)  # the selected epoch
    assert student.predict_logits(["", "   "]).shape == (2, 2)  # empty texts get a defined answer


@pytest.mark.parametrize("foreign", ["soft_targets", "transfer_targets"])
def test_student_refuses_a_cache_from_another_teacher(inputs, foreign):
    # checked once, before the stage's first node, for targets it reads from disk
    _, _, cache, _, _ = inputs
    transfer = NO_TRANSFER.copy()
    transfer.loc[0] = ["augmented", 1, "篮球", ["篮球"], np.zeros(2, np.float32), "f" * 64]
    targets = {"soft_targets": cache, "transfer_targets": transfer}
    catalog = DataCatalog({name: MemoryDataset(table) for name, table in targets.items()})
    catalog["teacher_fingerprint"] = {"fingerprint": "f" * 64}
    stage = create_pipeline()
    TeacherCheckHook().before_pipeline_run(pipeline=stage, catalog=catalog)  # the same teacher: fine
    targets[foreign]["teacher_fingerprint"] = "0" * 64  # made by a re-trained teacher, say
    catalog[foreign] = targets[foreign]
    with pytest.raises(SoftTargetMismatchError, match="rerun `kedro run --pipeline soft_targets`"):
        TeacherCheckHook().before_pipeline_run(pipeline=stage, catalog=catalog)


def test_student_alone_uses_hard_labels_only(inputs):
    segmented, examples, _, vectors, labels = inputs
    student, log = train_student_alone(
        segmented, examples, None, *vectors, labels, recorded(params_with(model={"unit": "char"})), {}
    )
    assert all("train_kd" not in record for record in log["history"])
    assert student.unit == "char" and len(student.token_ids) == len(vectors[2])


def test_unknown_architecture_or_unit_is_refused(inputs):
    segmented, examples, _, vectors, labels = inputs
    with pytest.raises(RecipeError, match="student.model.unit must be one of"):
        train_student_alone(
            segmented, examples, None, *vectors, labels, recorded(params_with(model={"unit": "byte"})), {}
        )
    with pytest.raises(RecipeError, match="student.model.architecture must be one of"):
        train_student_alone(
            segmented,
            examples,
            None,
            *vectors,
            labels,
            recorded(params_with(model={"architecture": "gru"})),
            {},
        )


def test_checkpoints_are_written_per_student_when_asked(inputs, tmp_path):
    segmented, examples, cache, vectors, labels = inputs
    params = params_with(runtime={"checkpoint_dir": str(tmp_path / "checkpoints")})
    train_distilled_student(segmented, examples, cache, NO_TRANSFER, None, *vectors, labels, recorded(params))
    train_student_alone(segmented, examples, None, *vectors, labels, recorded(params), {})
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["student.pt", "student_alone.pt"]


def test_a_seed_variant_is_the_same_recipe_at_its_own_seed(inputs):
    segmented, examples, cache, vectors, labels = inputs
    params = params_with(optimiser={"epochs": 1})
    arguments = (segmented, examples, cache, NO_TRANSFER, None, *vectors, labels)
    kept, kept_log = train_distilled_student(*arguments, recorded(params))
    variants = [train_distilled_student(*arguments, recorded(params), seed=seed) for seed in (1, 2)]
    assert [log["seed"] for _, log in variants] == [1, 2] and kept_log["seed"] == 0
    assert all(log["recipe"] == kept_log["recipe"] for _, log in variants)  # what across_seeds checks
    weights = [m.model.classifier[-1].weight for m in (kept, *(student for student, _ in variants))]
    assert not torch.equal(weights[0], weights[1]) and not torch.equal(weights[1], weights[2])
    again, _ = train_distilled_student(*arguments, recorded(merge(params, {"runtime": {"seed": 1}})))
    torch.testing.assert_close(again.model.classifier[-1].weight, weights[1])  # a variant is a seeded run
    alone, alone_log = train_student_alone(
        segmented, examples, None, *vectors, labels, recorded(params), {}, seed=2
    )
    assert alone_log["seed"] == 2 and alone_log["recipe"] == kept_log["recipe"]


def test_ngram_student_reads_word_and_character_ngrams_of_its_segmenter(inputs):
    segmented, examples, cache, vectors, labels = inputs
    params = params_with(
        model={"architecture": "ngram", "unit": "word"}
    )  # the ngram architecture ignores unit
    student, _ = train_distilled_student(
        segmented, examples, cache, NO_TRANSFER, None, *vectors, labels, recorded(params)
    )
    assert student.unit == "ngram" and student.segmenter.words == "jieba"
    train_text = examples.loc[examples["split"] == "train", "text"].iloc[0]  # 中国队夺得冠军
    features = student.segmenter(train_text)
    assert "w:中国队" in features and "c:夺得" in features and "c:冠" in features
    assert all(feature in student.token_ids for feature in features)  # a train text: no <unk>
    # the vocabulary holds train features only: a dev-only character is unknown
    assert "c:篮" in student.token_ids and "c:锦" not in student.token_ids


def test_the_students_train_from_the_recorded_recipe():
    """``student_recipe`` (recipe.yml) is what every student trains from; only the node that
    records it reads the parameters."""
    nodes = create_pipeline(seeds=(43,)).nodes
    trainers = {node.name for node in nodes if "student_recipe" in node.inputs}
    assert trainers == {
        f"student.{variant}{name}"
        for variant in ("", "seed_43.")
        for name in ("train_distilled_student", "train_student_alone")
    }
    assert [node.name for node in nodes if "params:student" in node.inputs] == [
        "student.resolve_student_recipe"
    ]
