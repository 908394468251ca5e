"""The student training loop's options: accumulation, early stopping, adversarial training, and
checkpoints that resume only the run they were made by."""

import logging
from dataclasses import replace

import numpy as np
import pytest
import torch
from tests.recipes import training_config
from torch import nn

from text_distill.distill.data.vocab import PAD, UNK
from text_distill.distill.models.student import StudentClassifier
from text_distill.distill.objectives.adversarial import adversarial_backward
from text_distill.distill.students.bilstm import BiLSTMClassifier
from text_distill.distill.training import student_loop as train_module
from text_distill.distill.training.student_loop import planned_epochs, train_student

VOCABULARY = [PAD, UNK, "a", "b", "c", "d"]
TRAIN_IDS = [[2, 3], [4], [5, 2, 3], [3, 3], [2], [4, 5], [5], [2, 4]]
TRAIN_LABELS = np.array([0, 1, 1, 0, 0, 1, 1, 0])


def student() -> StudentClassifier:
    torch.manual_seed(0)
    model = BiLSTMClassifier(len(VOCABULARY), 2, embedding_dim=4, hidden_size=4, dropout=0.0)
    return StudentClassifier(model, VOCABULARY, "word", ["x", "y"], 8)


def fit(model: StudentClassifier, **options) -> list[dict]:
    config = training_config(
        **{"epochs": 2, "batch_size": 4, "learning_rate": 0.05, "progress": False, **options}
    )
    return train_student(model, TRAIN_IDS, TRAIN_LABELS, None, TRAIN_IDS[:4], TRAIN_LABELS[:4], config)


def test_accumulating_two_half_batches_equals_one_full_batch():
    whole, halves = student(), student()
    fit(whole, batch_size=4)
    fit(halves, batch_size=2, accumulation_steps=2)
    for (name, a), (_, b) in zip(whole.state_dict().items(), halves.state_dict().items(), strict=True):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4, msg=name)


def test_early_stopping_ends_after_patience_epochs_without_gain():
    history = fit(student(), epochs=6, learning_rate=0.0, early_stopping_patience=2)
    assert [record["epoch"] for record in history] == [1, 2, 3]


def test_adversarial_training_logs_its_loss():
    history = fit(student(), adversarial="fgm", adversarial_epsilon=0.5)
    assert all(record["train_adversarial"] > 0 for record in history)


def squared(embedding: nn.Embedding, ids: torch.Tensor):
    return lambda: (embedding(ids) ** 2).sum()


def after_clean_backward() -> tuple[nn.Embedding, torch.Tensor, torch.Tensor, torch.Tensor]:
    """An embedding after the clean backward pass of ``squared``: (embedding, ids, weights, gradient)."""
    torch.manual_seed(0)
    embedding = nn.Embedding(3, 2)
    ids = torch.tensor([1, 2])
    weights = embedding.weight.detach().clone()
    squared(embedding, ids)().backward()
    return embedding, ids, weights, embedding.weight.grad.clone()


def test_fgm_adds_the_gradient_at_the_perturbed_point_and_restores_weights():
    embedding, ids, weights, clean = after_clean_backward()
    delta = 0.5 * clean / clean.norm()
    loss = adversarial_backward(embedding.parameters(), embedding, squared(embedding, ids), "fgm", 0.5)
    perturbed = weights + delta
    torch.testing.assert_close(embedding.weight.detach(), weights)
    torch.testing.assert_close(embedding.weight.grad, clean + 2 * perturbed * (clean != 0))
    assert loss == pytest.approx(float((perturbed[ids] ** 2).sum()))


def test_pgd_stays_inside_the_epsilon_ball():
    embedding, ids, weights, clean = after_clean_backward()
    adversarial_backward(
        embedding.parameters(), embedding, squared(embedding, ids), "pgd", 0.5, steps=3, step_size=10.0
    )
    torch.testing.assert_close(embedding.weight.detach(), weights)
    offset = (embedding.weight.grad - clean)[ids] / 2 - weights[
        ids
    ]  # the last point's gradient is 2 * (W + offset)
    assert offset.norm().item() == pytest.approx(0.5, rel=1e-4)


def test_unknown_adversarial_method_is_refused():
    embedding = nn.Embedding(3, 2)
    with pytest.raises(ValueError, match="adversarial must be one of"):
        adversarial_backward(embedding.parameters(), embedding, lambda: torch.tensor(0.0), "free", 1.0)


def interrupted_after_first_epoch(monkeypatch, model: StudentClassifier, **options) -> None:
    """Train until the first checkpoint is written, then stop as a killed run would."""
    save = train_module._save_checkpoint

    def save_then_stop(path, **state):
        save(path, **state)
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(train_module, "_save_checkpoint", save_then_stop)
        with pytest.raises(KeyboardInterrupt):
            fit(model, **options)


def test_an_interrupted_run_resumes_from_its_checkpoint_to_the_same_result(tmp_path, monkeypatch, caplog):
    straight = student()
    straight_history = fit(straight, epochs=3)
    checkpoint = str(tmp_path / "student.pt")
    interrupted_after_first_epoch(monkeypatch, student(), epochs=3, checkpoint=checkpoint)
    again = student()  # a fresh process: new model object, same checkpoint
    with caplog.at_level(logging.INFO, logger="text_distill.distill.training.student_loop"):
        history = fit(again, epochs=3, checkpoint=checkpoint)
    assert "after epoch 1" in caplog.text and "training from the start" not in caplog.text
    assert history == straight_history
    for (name, a), (_, b) in zip(straight.state_dict().items(), again.state_dict().items(), strict=True):
        torch.testing.assert_close(a, b, msg=name)


LOGITS = np.random.default_rng(0).normal(size=(len(TRAIN_IDS), 2)).astype(np.float32)


def char_student() -> StudentClassifier:
    """Another unit: a larger vocabulary, so other embedding shapes."""
    torch.manual_seed(0)
    vocabulary = [*VOCABULARY, "e", "f"]
    model = BiLSTMClassifier(len(vocabulary), 2, embedding_dim=4, hidden_size=4, dropout=0.0)
    return StudentClassifier(model, vocabulary, "char", ["x", "y"], 8)


def other_embeddings() -> StudentClassifier:
    """Same shapes, other initial vectors (e.g. another word2vec file)."""
    model = student()
    with torch.no_grad():
        model.model.embedding.weight.add_(1.0)
    return model


def distil(model: StudentClassifier, logits=LOGITS, labels=TRAIN_LABELS, **options) -> list[dict]:
    config = training_config(
        **{"epochs": 2, "batch_size": 4, "learning_rate": 0.05, "progress": False, "alpha": 0.5, **options}
    )
    return train_student(model, TRAIN_IDS, labels, logits, TRAIN_IDS[:4], TRAIN_LABELS[:4], config)


def test_the_same_seed_trains_the_same_student_with_every_step_on():
    """KD, accumulation, adversarial steps, dropout and early stopping at once: one seed, one result."""
    options = {"adversarial": "pgd", "accumulation_steps": 2, "batch_size": 2, "early_stopping_patience": 1}
    models = []
    for _ in range(2):
        torch.manual_seed(0)
        model = BiLSTMClassifier(len(VOCABULARY), 2, embedding_dim=4, hidden_size=4, dropout=0.3)
        models.append(StudentClassifier(model, VOCABULARY, "word", ["x", "y"], 8))
    first, second = (distil(model, epochs=3, **options) for model in models)
    assert first == second and all(record["train_adversarial"] > 0 for record in first)
    for (name, a), (_, b) in zip(models[0].state_dict().items(), models[1].state_dict().items(), strict=True):
        assert torch.equal(a, b), name


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"logits": -LOGITS}, "teacher logits"),  # another teacher, soft targets rebuilt
        ({"logits": None}, "teacher logits"),  # the student-alone's checkpoint name reused
        ({"labels": 1 - TRAIN_LABELS}, "training data"),
        ({"kd_loss": "kl", "temperature": 4.0}, "recipe (kd_loss, temperature)"),
        ({"model": char_student}, "model shape"),  # unit=char: resuming was a size-mismatch traceback
        ({"model": other_embeddings}, "initial weights"),
    ],
)
def test_a_checkpoint_made_from_other_inputs_is_not_resumed(tmp_path, caplog, change, named):
    checkpoint = str(tmp_path / "student.pt")
    distil(student(), checkpoint=checkpoint)  # finished: resuming it would train nothing
    change = dict(change)
    make = change.pop("model", student)
    expected = distil(make(), **change)  # the same run without any checkpoint
    with caplog.at_level(logging.INFO, logger="text_distill.distill.training.student_loop"):
        history = distil(make(), checkpoint=checkpoint, **change)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "made from other inputs" in warnings[0] and named in warnings[0]
    assert "\n" not in warnings[0] and "Resuming" not in caplog.text
    assert history == expected
    assert torch.load(checkpoint, weights_only=False)["history"] == expected  # overwritten


def test_a_checkpoint_without_provenance_is_not_resumed(tmp_path, caplog):
    checkpoint = tmp_path / "student.pt"
    distil(student(), checkpoint=str(checkpoint))
    state = torch.load(checkpoint, weights_only=False)
    del state["provenance"]  # as written before checkpoints recorded their inputs
    torch.save(state, checkpoint)
    with caplog.at_level(logging.INFO, logger="text_distill.distill.training.student_loop"):
        history = distil(student(), checkpoint=str(checkpoint))
    assert "records nothing of what it was made from" in caplog.text and "Resuming" not in caplog.text
    assert [record["epoch"] for record in history] == [1, 2]


def test_the_same_inputs_resume_a_finished_checkpoint_without_training(tmp_path, caplog):
    checkpoint = str(tmp_path / "student.pt")
    first = distil(student(), checkpoint=checkpoint)
    with caplog.at_level(logging.INFO, logger="text_distill.distill.training.student_loop"):
        assert distil(student(), checkpoint=checkpoint) == first
    assert "after epoch 2" in caplog.text


def test_min_steps_raise_the_epochs_of_a_small_training_set_only():
    config = training_config(epochs=4, batch_size=512, accumulation_steps=1, min_steps=600)
    assert planned_epochs(config, 84_970) == 4  # 166 batches an epoch: 664 steps already
    assert planned_epochs(config, 2_100) == 120  # 5 batches an epoch
    assert planned_epochs(replace(config, accumulation_steps=2), 2_100) == 200  # 3 steps an epoch
    assert planned_epochs(replace(config, min_steps=None), 2_100) == 4
