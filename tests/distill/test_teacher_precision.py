"""Teacher precision and device: bf16 scoring agrees with float32 where logits are apart; where
they are not, the dev check made when the teacher is fingerprinted refuses an explicit bf16 and
makes ``auto`` fall back to float32; a store rerun scores nothing; the precision is part of the
fingerprint; devices resolve with clear errors."""

import logging

import numpy as np
import pandas as pd
import pytest
import torch
from tests.conftest import TINY_TEACHER, fingerprint_of, headline_examples, label_through_store, tiny_encoder

from text_distill.distill.config import ConfigError
from text_distill.distill.data.soft_targets import SoftTargetMismatchError
from text_distill.distill.models import teacher_precision
from text_distill.distill.models.teacher import TeacherClassifier
from text_distill.distill.models.teacher_precision import (
    DeviceError,
    PrecisionAgreementError,
    check_precision_agreement,
    precision_agreement,
    resolve_device,
    resolve_precision,
)
from text_distill.distill.training.teacher_config import TeacherConfig
from text_distill.distill.training.teacher_training import with_planned_epochs
from text_distill.pipelines.teacher.nodes import fine_tune_teacher

LABELS = ["sports", "finance"]
BF16 = {"precision": "bf16", "device": "cpu", "min_agreement": 0.999}
needs_bf16 = pytest.mark.skipif(
    not teacher_precision.is_torch_bf16_available_on_device("cpu"), reason="no bf16 on this CPU"
)


@pytest.fixture(scope="module")
def examples(thucnews_lines):
    return headline_examples(thucnews_lines, 20, 10, 10)


def teacher_with_head(texts, mode: str) -> TeacherClassifier:
    """A tiny teacher whose two logits are far apart (``separated``: opposite head rows, scaled up)
    or nearly tied (``ties``: the same head row twice, up to noise far below bf16's resolution)."""
    teacher = TeacherClassifier(tiny_encoder(texts), LABELS, max_length=32)
    with torch.no_grad():
        torch.manual_seed(1)
        row = teacher.head.weight[0].clone()
        teacher.head.bias.zero_()
        if mode == "separated":
            teacher.head.weight.copy_(torch.stack([row, -row]) * 100)
        else:
            teacher.head.weight.copy_(torch.stack([row, row + 1e-4 * torch.randn_like(row)]))
    return teacher


def fingerprint(teacher, examples, soft_target_params):
    """The single ``teacher``'s fingerprint; a bf16 precision is checked on ``examples``' dev rows."""
    return fingerprint_of(teacher, {}, {"seed": 0}, soft_target_params, examples)


def counted(teacher, monkeypatch):
    calls = []
    original = teacher.predict_logits

    def predict_logits(texts, batch_size=64, progress=False, precision="float32"):
        calls.append((precision, len(texts)))
        return original(texts, batch_size=batch_size, progress=progress, precision=precision)

    monkeypatch.setattr(teacher, "predict_logits", predict_logits)
    return calls


def test_agreement_of_hand_made_logits():
    fp32 = np.array([[2.0, 1.0], [0.0, 1.0], [1.0, 1.01], [3.0, -3.0]])
    low = np.array([[2.0, 1.1], [0.0, 1.0], [1.02, 1.0], [3.0, -2.75]])
    result = precision_agreement(fp32, low)
    assert result["rows"] == 4 and result["agreement"] == pytest.approx(0.75)
    assert result["max_abs_logit_diff"] == pytest.approx(0.25)
    assert precision_agreement(fp32, fp32) == {"rows": 4, "agreement": 1.0, "max_abs_logit_diff": 0.0}
    assert precision_agreement(np.zeros((0, 2)), np.zeros((0, 2)))["agreement"] == 1.0
    with pytest.raises(ValueError, match="do not pair up"):
        precision_agreement(fp32, low[:3])


def test_the_check_refuses_below_the_threshold_in_one_line():
    check_precision_agreement({"rows": 1000, "agreement": 0.999, "max_abs_logit_diff": 0.1}, 0.999)
    with pytest.raises(PrecisionAgreementError) as error:
        check_precision_agreement({"rows": 1000, "agreement": 0.998, "max_abs_logit_diff": 0.1}, 0.999)
    message = str(error.value)
    assert "\n" not in message and "99.80% of 1000 dev labels" in message
    assert "`soft_targets.precision: float32`" in message


@needs_bf16
def test_bf16_scoring_keeps_the_labels_of_well_separated_logits(examples):
    teacher = teacher_with_head(examples["text"].tolist(), "separated")
    texts = examples["text"].tolist()
    fp32 = teacher.predict_logits(texts, batch_size=8)
    low = teacher.predict_logits(texts, batch_size=8, precision="bf16")
    assert low.dtype == np.float32 and low.shape == fp32.shape
    difference = np.abs(low - fp32).max()
    assert 0 < difference < 0.02 * np.abs(fp32).max()  # bf16 did run, and stayed close
    assert np.abs(np.diff(fp32, axis=1)).min() > 2 * difference  # what "well separated" means here
    assert (low.argmax(1) == fp32.argmax(1)).all()
    assert next(teacher.parameters()).dtype == torch.float32  # autocast: the weights are untouched
    with pytest.raises(ValueError, match="float32 or bf16"):
        teacher.predict_logits(texts, precision="fp16")


@needs_bf16
def test_an_explicit_bf16_is_refused_for_a_teacher_with_near_ties_before_the_store_is_scored(
    examples, tmp_path, monkeypatch
):
    teacher = teacher_with_head(examples["text"].tolist(), "ties")
    calls = counted(teacher, monkeypatch)
    with pytest.raises(PrecisionAgreementError, match=r"set `soft_targets.precision: float32`") as error:
        fingerprint(teacher, examples, BF16)  # the teacher stage refuses: no store to fill
    assert "\n" not in str(error.value)
    assert calls == [("float32", 10), ("bf16", 10)]  # the dev split twice, no store text
    assert not list(tmp_path.rglob("*.parquet"))


@needs_bf16
def test_a_threshold_above_one_refuses_even_a_good_teacher(examples, tmp_path):
    teacher = teacher_with_head(examples["text"].tolist(), "separated")
    strict = {**BF16, "min_agreement": 1.01}
    with pytest.raises(PrecisionAgreementError, match="agree with float32 on 100.00% of 10 dev labels"):
        fingerprint(teacher, examples, strict)


@needs_bf16
def test_bf16_fill_checks_first_and_a_rerun_runs_no_forward_pass(examples, tmp_path, monkeypatch):
    teacher = teacher_with_head(examples["text"].tolist(), "separated")
    calls = counted(teacher, monkeypatch)
    identity = fingerprint(teacher, examples, BF16)
    soft, _, report = label_through_store(teacher, {}, identity, examples, tmp_path, params=BF16)
    assert calls[:2] == [("float32", 10), ("bf16", 10)] and {p for p, _ in calls[2:]} == {"bf16"}
    assert identity["dev_check"]["precision_check"] == "passed"  # the teacher stage checked, once
    assert (report["precision"], report["device"]) == ("bf16", "cpu")
    assert report["precision_check"] == "passed (when fingerprinted)"
    assert report["dev_rows"] == 10 and report["dev_agreement"] == 1.0 and report["dev_max_logit_diff"] > 0
    assert set(soft["teacher_fingerprint"]) == {identity["fingerprint"]}

    calls.clear()  # a rerun: every text is stored, so neither the check nor the fill scores anything
    again, _, report = label_through_store(teacher, {}, identity, examples, tmp_path, params=BF16)
    assert calls == [] and report["teacher_forward_texts"] == 0
    assert report["precision_check"] == "skipped: no texts to score" and "dev_agreement" not in report
    pd.testing.assert_frame_equal(again, soft)

    # float32 rows of the same teacher go to another folder: nothing of the bf16 store is reused
    float32 = {**BF16, "precision": "float32"}
    _, _, report = label_through_store(
        teacher, {}, fingerprint(teacher, examples, float32), examples, tmp_path, params=float32
    )
    assert report["store_hits"] == 0 and report["precision_check"] == "not needed: float32"
    assert len({path.parent.name for path in tmp_path.rglob("*.parquet")}) == 2


@needs_bf16
def test_auto_falls_back_to_float32_where_bf16_disagrees_on_dev(examples, tmp_path, monkeypatch, caplog):
    """A teacher whose bf16 labels differ from float32's on dev: ``auto`` scores the store in float32
    (a warning says why) instead of stopping the run, as an explicit bf16 does."""
    teacher = teacher_with_head(examples["text"].tolist(), "ties")
    monkeypatch.setattr(teacher_precision, "fast_bf16", lambda device: True)  # auto would pick bf16
    auto = {**BF16, "precision": "auto"}
    with caplog.at_level(logging.WARNING):
        identity = fingerprint(teacher, examples, auto)
    assert identity["precision"] == "float32" and identity["fingerprint"] == teacher.fingerprint()
    check = identity["dev_check"]
    assert check["precision_check"] == "bf16 refused: float32" and check["dev_rows"] == 10
    assert check["dev_agreement"] < auto["min_agreement"]
    assert "soft_targets.precision is auto: the store is scored in float32" in caplog.text
    soft, _, report = label_through_store(teacher, {}, identity, examples, tmp_path, params=auto)
    assert report["precision"] == "float32" and report["precision_check"] == "not needed: float32"
    np.testing.assert_allclose(
        np.stack(soft["logits"]), teacher.predict_logits(examples["text"].tolist()), atol=1e-6
    )


def test_the_fingerprint_names_the_precision_and_keeps_float32s(examples, monkeypatch):
    teacher = teacher_with_head(examples["text"].tolist(), "separated")
    float32 = fingerprint(teacher, examples, {"precision": "float32", "device": "cpu"})
    assert float32["fingerprint"] == teacher.fingerprint() and float32["precision"] == "float32"
    monkeypatch.setattr(teacher_precision, "is_torch_bf16_available_on_device", lambda device: True)
    bf16 = fingerprint(teacher, examples, {"precision": "bf16", "device": "cpu"})
    assert bf16["precision"] == "bf16" and bf16["fingerprint"] != float32["fingerprint"]
    assert bf16["members"] == float32["members"]  # the members are the same models
    monkeypatch.setattr(teacher_precision, "fast_bf16", lambda device: True)
    assert fingerprint(teacher, examples, {"precision": "auto", "device": "cpu"}) == bf16
    monkeypatch.setattr(teacher_precision, "fast_bf16", lambda device: False)  # emulated bf16: slower
    assert fingerprint(teacher, examples, {"precision": "auto", "device": "cpu"}) == float32
    monkeypatch.setattr(teacher_precision, "is_torch_bf16_available_on_device", lambda device: False)
    assert fingerprint(teacher, examples, {"precision": "auto", "device": "cpu"}) == float32
    with pytest.raises(DeviceError, match="soft_targets.precision is bf16 but cpu has no bf16 support"):
        fingerprint(teacher, examples, {"precision": "bf16", "device": "cpu"})
    ensemble = {"seed_1": teacher_with_head(examples["text"].tolist(), "ties")}
    monkeypatch.setattr(teacher_precision, "is_torch_bf16_available_on_device", lambda device: True)
    prints = {
        fingerprint_of(teacher, ensemble, {"seed": 0}, {"precision": precision, "device": "cpu"}, examples)[
            "fingerprint"
        ]
        for precision in ("float32", "bf16")
    }
    assert len(prints) == 2


def test_the_stage_scores_in_the_fingerprint_s_precision(examples, tmp_path, monkeypatch):
    teacher = teacher_with_head(examples["text"].tolist(), "separated")
    monkeypatch.setattr(teacher_precision, "is_torch_bf16_available_on_device", lambda device: True)
    bf16 = fingerprint(teacher, examples, BF16)
    with pytest.raises(SoftTargetMismatchError, match="made for bf16 scoring.*fingerprint_teacher"):
        label_through_store(teacher, {}, bf16, examples, tmp_path, params={"precision": "float32"})
    # a fingerprint from before precisions existed is float32's, and auto keeps it
    legacy = {key: value for key, value in bf16.items() if key != "precision"} | {
        "fingerprint": teacher.fingerprint()
    }
    calls = counted(teacher, monkeypatch)
    _, _, report = label_through_store(teacher, {}, legacy, examples, tmp_path, params={"precision": "auto"})
    assert report["precision"] == "float32" and {p for p, _ in calls} == {"float32"}


def test_devices_resolve_with_clear_errors(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == resolve_device("cpu") == "cpu"
    with pytest.raises(DeviceError, match="teacher.device is cuda but torch .* sees no CUDA device"):
        resolve_device("cuda", "teacher.device")
    with pytest.raises(DeviceError, match=r"device must be one of \['auto', 'cpu', 'cuda'\], got 'tpu'"):
        resolve_device("tpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == resolve_device("cuda") == "cuda"
    assert resolve_device("cpu") == "cpu"
    with pytest.raises(DeviceError, match="got 'fp16'"):
        resolve_precision("fp16", "cpu")


def test_fine_tuning_on_a_missing_gpu_is_refused_before_training(examples):
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is there")
    base = tiny_encoder(examples["text"].tolist())
    params = {**TINY_TEACHER, "bf16": True, "device": "cuda"}
    with pytest.raises(DeviceError, match="teacher.device is cuda"):
        fine_tune_teacher(base, examples, LABELS, params)


def test_min_steps_raise_a_small_train_splits_teacher_epochs_and_score_dev_four_times():
    params = {"epochs": 1, "batch_size": 32, "min_steps": 1000}
    assert with_planned_epochs(params, 84_970) is params  # 2,656 steps in one epoch
    few = with_planned_epochs(params, 1_000)  # 32 steps an epoch: 32 epochs, dev every 8
    assert (few["epochs"], few["eval_steps"]) == (32, 8 * 32)
    five = with_planned_epochs(params, 5_000)  # 157 steps: 7 epochs, dev every 2, so 8 in all
    assert (five["epochs"], five["eval_steps"]) == (8, 2 * 157)
    assert with_planned_epochs({**params, "min_steps": None}, 1_000)["epochs"] == 1
    for bad in (0, True, "4"):  # refused when the run starts, before any plan
        with pytest.raises(ConfigError, match=r"^teacher.min_steps must be "):
            TeacherConfig.parse({**TINY_TEACHER, "min_steps": bad}, "teacher")
