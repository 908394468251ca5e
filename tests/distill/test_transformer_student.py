"""The transformer student cut from a tiny teacher, its pieces, and intermediate-layer matching."""

import pickle

import numpy as np
import pytest
import torch
from tests.conftest import tiny_encoder
from tests.recipes import training_config
from transformers.utils import is_torch_bf16_available_on_device

from text_distill.distill.data.vocab import PAD, UNK
from text_distill.distill.models.student import StudentClassifier
from text_distill.distill.models.teacher import TeacherClassifier
from text_distill.distill.objectives.intermediate import IntermediateMatching, uniform_layer_map
from text_distill.distill.students.transformer import (
    SubwordSegmenter,
    TransformerClassifier,
    pruned_vocabulary,
)
from text_distill.distill.training.student_loop import train_student

TRAIN = ["中国队夺冠", "篮球比赛", "股市大涨", "银行利率", "足球联赛", "基金收益"]
LABELS = np.array([0, 0, 1, 1, 0, 1])


@pytest.fixture(scope="module")
def teacher() -> TeacherClassifier:
    torch.manual_seed(0)
    return TeacherClassifier(tiny_encoder(TRAIN + ["游泳"]), ["sports", "finance"], 16).eval()


def cut(teacher: TeacherClassifier, layers: int, **options) -> tuple[StudentClassifier, list[int]]:
    segmenter = SubwordSegmenter(teacher.tokenizer, teacher.text_prefix, teacher.max_length)
    vocabulary, teacher_ids = pruned_vocabulary(teacher.tokenizer, segmenter.segment_many(TRAIN))
    model = TransformerClassifier.from_teacher(teacher.encoder, teacher_ids, 2, layers, 0.0, **options)
    return StudentClassifier(model, vocabulary, "subword", teacher.label_names, 16, segmenter), teacher_ids


def test_pieces_include_special_tokens_and_map_back_to_teacher_ids(teacher):
    segmenter = SubwordSegmenter(teacher.tokenizer, "", 16)
    assert segmenter("篮球") == ["[CLS]", "篮", "球", "[SEP]"]
    assert segmenter.segment_many([]) == []  # no transfer rows
    vocabulary, teacher_ids = pruned_vocabulary(teacher.tokenizer, [segmenter("篮球"), segmenter("篮")])
    assert vocabulary == [PAD, UNK, "[CLS]", "[SEP]", "篮", "球"]  # by frequency, ties by piece
    assert teacher_ids == [
        teacher.tokenizer.convert_tokens_to_ids(t) for t in ["[PAD]", "[UNK]", *vocabulary[2:]]
    ]


def test_a_full_depth_cut_with_the_teachers_head_reproduces_the_teacher(teacher):
    student, _ = cut(teacher, layers=2, head=teacher.head)
    np.testing.assert_allclose(student.predict_logits(TRAIN), teacher.predict_logits(TRAIN), atol=1e-5)
    assert student.model.encoder.get_input_embeddings().num_embeddings < len(teacher.tokenizer)
    unseen = student.predict_logits(["游泳"])  # pieces outside the training texts read as <unk>
    assert unseen.shape == (1, 2) and np.isfinite(unseen).all()


def test_a_shallow_cut_keeps_the_first_layers(teacher):
    student, _ = cut(teacher, layers=1)
    assert student.model.encoder.config.num_hidden_layers == 1
    torch.testing.assert_close(
        student.model.encoder.encoder.layer[0].attention.self.query.weight,
        teacher.encoder.encoder.layer[0].attention.self.query.weight,
    )
    with pytest.raises(ValueError, match="num_layers must be in 1..2"):
        cut(teacher, layers=3)


def test_uniform_layer_map():
    assert uniform_layer_map(4, 12) == [(0, 0), (1, 3), (2, 6), (3, 9), (4, 12)]
    with pytest.raises(ValueError, match="multiple"):
        uniform_layer_map(5, 12)


def batch(student: StudentClassifier) -> tuple[torch.Tensor, torch.Tensor]:
    return student.batch([student.ids(student.segmenter(text)) for text in TRAIN])


def test_matching_a_student_against_its_own_source_layers_costs_nothing(teacher):
    student, teacher_ids = cut(teacher, layers=2)
    student.eval()  # no dropout: the same computation as the teacher's
    matcher = IntermediateMatching(teacher.encoder, teacher_ids, 32, 2, [[0, 0], [1, 1], [2, 2]])
    _, loss, parts = matcher(student.model, *batch(student))
    assert loss.item() == pytest.approx(0.0, abs=1e-9) and set(parts) == {"hidden", "attention"}
    _, loss, _ = IntermediateMatching(teacher.encoder, teacher_ids, 32, 2, [[1, 2]])(
        student.model, *batch(student)
    )
    assert loss.item() > 0  # layer 1 against the teacher's layer 2


def test_a_narrower_student_learns_a_projection(teacher):
    student, teacher_ids = cut(teacher, layers=1, hidden_size=16)
    matcher = IntermediateMatching(teacher.encoder, teacher_ids, 16, 1, None, attention_weight=0.0)
    assert matcher.layer_map == [(0, 0), (1, 2)]
    assert [p.shape for p in matcher.parameters()] == [torch.Size([32, 16]), torch.Size([32])]
    _, loss, _ = matcher(student.model, *batch(student))
    loss.backward()
    assert matcher.projection.weight.grad.abs().sum() > 0
    assert all(not p.requires_grad for p in teacher.encoder.parameters())
    teacher.encoder.requires_grad_(True)


@pytest.mark.parametrize("bf16", [False, True])
def test_training_with_matching_logs_every_loss_part_and_pickles(teacher, bf16):
    if bf16 and not is_torch_bf16_available_on_device("cpu"):
        pytest.skip("no bf16 on this CPU")
    student, teacher_ids = cut(teacher, layers=1)
    matcher = IntermediateMatching(teacher.encoder, teacher_ids, 32, 1, None)
    ids = [student.ids(student.segmenter(text)) for text in TRAIN]
    logits = teacher.predict_logits(TRAIN)
    config = training_config(epochs=2, batch_size=3, learning_rate=1e-3, progress=False, bf16=bf16)
    history = train_student(student, ids, LABELS, logits, ids, LABELS, config, matcher)
    assert {"train_hard", "train_kd", "train_hidden", "train_attention"} <= set(history[0])
    assert all(np.isfinite(value) for record in history for value in record.values())
    restored = pickle.loads(pickle.dumps(student))
    np.testing.assert_allclose(restored.predict_logits(TRAIN), student.predict_logits(TRAIN), atol=1e-6)


def test_resuming_from_a_checkpoint_restores_the_learned_projection(teacher, tmp_path):
    def run(epochs: int, checkpoint: str | None) -> IntermediateMatching:
        torch.manual_seed(0)
        student, teacher_ids = cut(teacher, layers=1, hidden_size=16)
        matcher = IntermediateMatching(teacher.encoder, teacher_ids, 16, 1, None)
        ids = [student.ids(student.segmenter(text)) for text in TRAIN]
        config = training_config(
            epochs=epochs, batch_size=3, learning_rate=1e-2, progress=False, checkpoint=checkpoint
        )
        train_student(student, ids, LABELS, teacher.predict_logits(TRAIN), ids, LABELS, config, matcher)
        return matcher

    straight = run(2, None)
    checkpoint = str(tmp_path / "student.pt")
    run(1, checkpoint)
    resumed = run(2, checkpoint)  # epoch 2 only, from the checkpoint of epoch 1
    torch.testing.assert_close(resumed.projection.weight, straight.projection.weight)
    teacher.encoder.requires_grad_(True)
