"""Teacher stage on a tiny random-init BERT: base loading, Trainer fine-tune, dev selection,
model-directory round trip and a stable fingerprint."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from kedro.io import Version
from tests.conftest import TINY_TEACHER, fingerprint_of, label_through_store
from tests.stage_params import stage_params
from transformers import EarlyStoppingCallback

from text_distill.datasets.hf_model import HFModelDirectoryDataset
from text_distill.distill.config import ConfigError
from text_distill.distill.data.soft_targets import logits_for
from text_distill.distill.models.baselines import BASELINES, fit_baseline
from text_distill.distill.training.teacher_config import TeacherConfig
from text_distill.distill.training.teacher_trainer import (
    LengthGroupedSampler,
    teacher_trainer,
    training_arguments,
)
from text_distill.distill.training.teacher_training import fine_tune
from text_distill.pipelines.evaluate.nodes import score_teacher
from text_distill.pipelines.teacher.nodes import (
    choose_teacher_weights,
    fine_tune_teacher,
    fit_ngram_teacher,
    prepare_teacher_base,
)

TEACHER_CLASS = "text_distill.distill.models.teacher.TeacherClassifier"

PARAMS = TINY_TEACHER
FLOAT32 = stage_params("soft_targets", precision="float32", device="cpu")


LATEST = Version(None, None)  # a versioned dataset's load and save version: the newest


def teacher_dataset(kind, path, version=LATEST):
    """A ``kind`` dataset of teachers at ``path`` (versioned unless ``version`` is None)."""
    return kind(
        filepath=str(path),
        model_class=TEACHER_CLASS,
        version=version,
    )


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
    teacher, log = fine_tune(base, examples, ["sports", "finance"], PARAMS)
    return teacher, log, examples


@pytest.fixture(scope="module")
def ensemble(trained, tiny_encoder_dir):
    base = prepare_teacher_base(None, {**PARAMS, "base_model": str(tiny_encoder_dir)})
    member, log = fine_tune_teacher(base, trained[2], ["sports", "finance"], PARAMS, seed=1)
    return {"seed_1": member}, {"seed_1": log}  # by the keyword the combining nodes take it


def single(teacher):
    return fingerprint_of(teacher, {}, PARAMS, FLOAT32)


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


def padded_batches(teacher, groups, tmp_path):
    """The token lengths of each train batch the teacher's ``Trainer`` draws with
    ``teacher.length_group_batches: groups``."""
    texts = ["比" * (1 + i % 12) for i in range(480)]  # 1 to 12 characters, interleaved
    rows = pd.DataFrame({"text": texts, "label_id": [i % 2 for i in range(480)]})
    arguments = training_arguments({**PARAMS, "length_group_batches": groups}, str(tmp_path), "cpu", False, 4)
    trainer = teacher_trainer(teacher, rows, rows, arguments, groups)
    return [batch["attention_mask"].sum(dim=1).tolist() for batch in trainer.get_train_dataloader()]


def padding(batches):
    return sum(len(batch) * max(batch) - sum(batch) for batch in batches)


def test_length_grouped_batches_pad_less_and_a_bad_group_size_is_refused(trained, tmp_path):
    teacher = trained[0]
    drawn, grouped, wide = (padded_batches(teacher, groups, tmp_path) for groups in (None, 4, 30))
    assert sorted(sum(grouped, [])) == sorted(sum(drawn, []))  # every row once, either way
    assert padding(wide) < padding(grouped) < padding(drawn) / 2  # larger groups, less padding
    assert sum(max(batch) - min(batch) <= 1 for batch in wide) >= 0.9 * len(wide)
    assert grouped == padded_batches(teacher, 4, tmp_path)  # the same seed, the same batches
    sampler = LengthGroupedSampler(4, [1 + i % 12 for i in range(480)], 4)
    assert list(sampler) != list(sampler)  # each epoch a new draw
    for bad in (0, "4", True):  # refused when the run starts (RecipeCheckHook)
        with pytest.raises(ConfigError, match=r"^teacher.length_group_batches must be "):
            TeacherConfig.parse({**PARAMS, "length_group_batches": bad}, "teacher")


def test_teacher_directory_round_trip_keeps_logits_and_fingerprint(trained, tmp_path):
    teacher, _, examples = trained
    dataset = teacher_dataset(HFModelDirectoryDataset, tmp_path / "teacher")
    dataset.save(teacher)
    loaded = dataset.load()
    texts = examples["text"].tolist()
    np.testing.assert_allclose(loaded.predict_logits(texts), teacher.predict_logits(texts), atol=1e-5)
    assert single(loaded) == single(teacher)
    assert loaded.label_names == ["sports", "finance"]


def test_soft_targets_cover_every_example_in_order(trained, tmp_path):
    teacher, _, examples = trained
    fingerprint = single(teacher)["fingerprint"]
    assert fingerprint == teacher.fingerprint()  # a lone teacher is its own identity
    cache, _, _ = label_through_store(teacher, {}, single(teacher), examples, tmp_path)
    assert cache["example_id"].tolist() == examples["example_id"].tolist()
    assert "member_logits" not in cache.columns
    assert set(cache["teacher_fingerprint"]) == {fingerprint}
    teacher.predict_logits(["再来一次"], batch_size=1)  # tokenizer call-time settings are not identity
    assert teacher.fingerprint() == fingerprint
    np.testing.assert_allclose(
        np.stack(cache["logits"]), teacher.predict_logits(examples["text"].tolist()), atol=1e-5
    )


def test_model_directory_dataset_reports_existence(tmp_path, trained):
    dataset = teacher_dataset(HFModelDirectoryDataset, tmp_path / "model")
    assert not dataset.exists()
    dataset.save(trained[0])
    assert dataset.exists()


def test_ensemble_member_differs_by_seed_only_and_survives_a_round_trip(trained, ensemble, tmp_path):
    teacher, log, examples = trained
    members, logs = ensemble
    assert list(members) == ["seed_1"] and logs["seed_1"]["train_rows"] == log["train_rows"]
    assert members["seed_1"].fingerprint() != teacher.fingerprint()
    dataset = teacher_dataset(HFModelDirectoryDataset, tmp_path / "teacher_seeds" / "1")  # teacher_seed_1
    dataset.save(members["seed_1"])
    assert dataset.load().fingerprint() == members["seed_1"].fingerprint()


def test_ensemble_fingerprint_depends_on_members_and_weights(trained, ensemble):
    teacher, members = trained[0], ensemble[0]
    mean = fingerprint_of(teacher, members, PARAMS, FLOAT32)
    weighted = fingerprint_of(teacher, members, {**PARAMS, "ensemble_weights": [3, 1]}, FLOAT32)
    assert list(mean["members"]) == ["seed_0", "seed_1"]
    assert len({mean["fingerprint"], weighted["fingerprint"], teacher.fingerprint()}) == 3
    with pytest.raises(ValueError, match="2 teachers"):
        fingerprint_of(teacher, members, {**PARAMS, "ensemble_weights": [1, 1, 1]}, FLOAT32)


def test_ensemble_soft_targets_combine_members_and_teacher_scores_report_each(trained, ensemble, tmp_path):
    teacher, _, examples = trained
    members = ensemble[0]
    fingerprint = fingerprint_of(teacher, members, {**PARAMS, "ensemble_weights": [3, 1]}, FLOAT32)
    cache, _, _ = label_through_store(teacher, members, fingerprint, examples, tmp_path)
    texts = examples["text"].tolist()
    own = np.stack([teacher.predict_logits(texts), members["seed_1"].predict_logits(texts)], axis=1)
    np.testing.assert_allclose(
        logits_for(cache, examples["example_id"], "member_logits").reshape(own.shape), own, atol=1e-5
    )
    np.testing.assert_allclose(np.stack(cache["logits"]), 0.75 * own[:, 0] + 0.25 * own[:, 1], atol=1e-5)
    test = examples.assign(split="test")
    scores = score_teacher(
        cache.assign(split="test"), test, fingerprint, ["sports", "finance"], {"calibration_bins": 10}
    )
    labels = test["label_id"].to_numpy()
    assert scores["members"]["seed_1"]["accuracy"] == pytest.approx(
        float((own[:, 1].argmax(1) == labels).mean())
    )
    with pytest.raises(ValueError, match="rerun `kedro run --pipeline teacher`"):
        label_through_store(teacher, {}, fingerprint, examples, tmp_path / "other")


NGRAM = {
    **PARAMS,
    "ngram_folds": 2,
    "ensemble_weights": "dev",
    "eval_batch_size": 4,
}


@pytest.fixture(scope="module")
def baselines(trained):
    train = trained[2][trained[2]["split"] == "train"]
    fitted = {
        name: fit_baseline(
            replace(spec, min_df=1),
            "jieba",
            (train["text"].tolist(), train["label_id"].to_numpy()),
            (train["text"].tolist(), train["label_id"].to_numpy()),
            ["sports", "finance"],
            [1.0],
        )[0]
        for name, spec in BASELINES.items()
    }
    return fitted


@pytest.fixture(scope="module")
def ngram_members(trained, baselines):
    """Both reference baselines cross-fitted as teachers (what variants.yml ngram_members names)."""
    fitted = {name: fit_ngram_teacher(trained[2], baseline, NGRAM) for name, baseline in baselines.items()}
    return {name: member for name, (member, _) in fitted.items()}, {
        name: log for name, (_, log) in fitted.items()
    }


def test_an_ngram_member_is_cross_fitted_on_train(trained, ngram_members):
    members, logs = ngram_members
    assert list(members) == ["tfidf_char_svm", "tfidf_word_svm"]
    train = trained[2][trained[2]["split"] == "train"]
    for name, member in members.items():
        assert len(member.folds) == 2 and logs[name]["logit_scale"] > 0
        assert set(member.fold_of_text) == set(train["text"])  # every train text has its held-out fold


def test_member_weights_are_chosen_on_dev_or_taken_as_given(trained, ngram_members):
    teacher, _, examples = trained
    members = ngram_members[0]
    chosen = choose_teacher_weights(teacher, examples, NGRAM, FLOAT32, **members)
    assert chosen["chosen_on"] == "dev" and len(chosen["weights"]) == 3
    assert sum(chosen["weights"]) == pytest.approx(1.0)
    assert chosen["weights"][1:] == list(chosen["ngram_weights"].values())
    accuracies = chosen["dev_accuracy_by_ngram_weights"]
    assert len(accuracies) == 231 and chosen["dev_accuracy"] == max(accuracies.values())
    dev = examples[examples["split"] == "dev"]
    alone = float((teacher.predict_logits(dev["text"].tolist()).argmax(1) == dev["label_id"]).mean())
    assert chosen["dev_accuracy_transformers_alone"] == alone  # the test split is not read
    # float32, whatever the store's precision: a bf16 store that fails its dev check falls back to
    # float32 after the weights are chosen, and the weights must not depend on the precision it left
    from_bf16_store = choose_teacher_weights(
        teacher, examples, NGRAM, {**FLOAT32, "precision": "bf16"}, **members
    )
    assert from_bf16_store["precision"] == "float32" and from_bf16_store == chosen
    given = {**PARAMS, "ensemble_weights": [3, 1, 1]}
    assert choose_teacher_weights(teacher, examples, given, FLOAT32, **members)["weights"] == [3, 1, 1]
    with pytest.raises(ValueError, match="needs variants.yml ngram_members"):
        choose_teacher_weights(teacher, examples, NGRAM, FLOAT32)


def test_the_ngram_member_joins_the_fingerprint_and_the_store(trained, ngram_members, tmp_path):
    teacher, _, examples = trained
    member = {"tfidf_char_svm": ngram_members[0]["tfidf_char_svm"]}
    fingerprint = fingerprint_of(teacher, member, {**NGRAM, "ensemble_weights": [0.6, 0.4]}, FLOAT32)
    assert list(fingerprint["members"]) == ["seed_0", "tfidf_char_svm"]
    assert fingerprint["fingerprint"] not in (teacher.fingerprint(), single(teacher)["fingerprint"])
    cache, _, report = label_through_store(teacher, {}, fingerprint, examples, tmp_path, ngram=member)
    assert report["teachers"] == 2
    texts = examples["text"].tolist()
    own = np.stack([teacher.predict_logits(texts), member["tfidf_char_svm"].predict_logits(texts)], axis=1)
    np.testing.assert_allclose(
        logits_for(cache, examples["example_id"], "member_logits").reshape(own.shape), own, atol=1e-5
    )
    np.testing.assert_allclose(np.stack(cache["logits"]), 0.6 * own[:, 0] + 0.4 * own[:, 1], atol=1e-5)


def test_the_teacher_stops_after_patience_dev_scores_without_a_better_one(trained, tmp_path):
    teacher, rows = trained[0], pd.DataFrame({"text": ["比赛", "股市"], "label_id": [0, 1]})
    arguments = training_arguments(PARAMS, str(tmp_path), "cpu", False, 4)
    stops = [
        [c for c in teacher_trainer(teacher, rows, rows, arguments, None, patience).callback_handler.callbacks
         if isinstance(c, EarlyStoppingCallback)]
        for patience in (1, None)
    ]  # fmt: skip
    assert [len(found) for found in stops] == [1, 0]
    assert stops[0][0].early_stopping_patience == 1
