"""Teacher stage on a tiny random-init BERT: base loading, Trainer fine-tune, dev selection,
model-directory round trip and a stable fingerprint."""

import numpy as np
import pandas as pd
import pytest
from kedro.io import Version

from text_distill.datasets.hf_model import HFModelDirectoryDataset
from text_distill.pipelines.soft_targets.nodes import compute_soft_targets
from text_distill.pipelines.teacher.nodes import fine_tune_teacher, fingerprint_teacher, prepare_teacher_base

PARAMS = {
    "base_model": None,
    "text_prefix": "",
    "max_length": 16,
    "train_rows": None,
    "epochs": 2,
    "batch_size": 4,
    "eval_batch_size": 8,
    "learning_rate": 1e-3,
    "weight_decay": 0.0,
    "warmup_ratio": 0.0,
    "dropout": 0.0,
    "freeze_word_embeddings": True,
    "bf16": False,
    "logging_steps": 1,
    "seed": 0,
    "threads": 1,
    "progress": False,
}


@pytest.fixture(scope="module")
def trained(tiny_encoder_dir):
    texts = {
        "sports": ["中国队夺冠", "篮球比赛", "足球联赛", "游泳比赛"],
        "finance": ["股市大涨", "银行利率", "基金收益", "央行报告"],
    }
    rows = [
        (i, "train" if n < 3 else "dev", text, label, label_id)
        for label_id, (label, items) in enumerate(texts.items())
        for n, text in enumerate(items)
        for i in [label_id * 10 + n]
    ]
    examples = pd.DataFrame(rows, columns=["example_id", "split", "text", "label", "label_id"])
    examples["text_hash"] = examples["text"]
    base = prepare_teacher_base(None, {**PARAMS, "base_model": str(tiny_encoder_dir)})
    teacher, log = fine_tune_teacher(base, examples, ["sports", "finance"], PARAMS)
    return teacher, log, examples


def test_fine_tune_selects_on_dev_and_logs_history(trained):
    teacher, log, _ = trained
    assert log["train_rows"] == 6 and log["dev_rows"] == 2
    assert 0.0 <= log["dev_accuracy"] <= 1.0
    dev_scores = {
        entry["epoch"]: entry["eval_macro_f1"] for entry in log["history"] if "eval_macro_f1" in entry
    }
    assert sorted(dev_scores) == [1.0, 2.0]
    assert (
        log["dev_macro_f1"] == max(dev_scores.values())
        and dev_scores[log["best_epoch"]] == log["dev_macro_f1"]
    )
    assert not teacher.encoder.get_input_embeddings().weight.requires_grad


def test_teacher_directory_round_trip_keeps_logits_and_fingerprint(trained, tmp_path):
    teacher, _, examples = trained
    dataset = HFModelDirectoryDataset(
        filepath=str(tmp_path / "teacher"),
        model_class="text_distill.distill.teacher.TeacherClassifier",
        version=Version(None, None),
    )
    dataset.save(teacher)
    loaded = dataset.load()
    texts = examples["text"].tolist()
    np.testing.assert_allclose(loaded.predict_logits(texts), teacher.predict_logits(texts), atol=1e-5)
    assert fingerprint_teacher(loaded) == fingerprint_teacher(teacher)
    assert loaded.label_names == ["sports", "finance"]


def test_soft_targets_cover_every_example_in_order(trained):
    teacher, _, examples = trained
    cache = compute_soft_targets(teacher, examples, {"batch_size": 3, "threads": 1})
    assert cache["example_id"].tolist() == examples["example_id"].tolist()
    fingerprint = fingerprint_teacher(teacher)["fingerprint"]
    assert set(cache["teacher_fingerprint"]) == {fingerprint}
    teacher.predict_logits(["再来一次"], batch_size=1)  # tokenizer call-time settings are not identity
    assert teacher.fingerprint() == fingerprint
    np.testing.assert_allclose(
        np.stack(cache["logits"]), teacher.predict_logits(examples["text"].tolist()), atol=1e-5
    )


def test_model_directory_dataset_reports_existence(tmp_path, trained):
    dataset = HFModelDirectoryDataset(
        filepath=str(tmp_path / "model"),
        model_class="text_distill.distill.teacher.TeacherClassifier",
        version=Version(None, None),
    )
    assert not dataset.exists()
    dataset.save(trained[0])
    assert dataset.exists()
