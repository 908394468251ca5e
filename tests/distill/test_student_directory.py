"""Students saved as directories (``config.json``, ``vocabulary.json``, ``model.safetensors``): every
registered architecture loads back giving the same logits, and a broken directory is refused in one
line."""

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from tests.conftest import tiny_encoder

from text_distill.distill.data.text import Segmenter, ngram_features
from text_distill.distill.data.vocab import PAD, UNK
from text_distill.distill.models.student import StudentClassifier, StudentDirectoryError, load_student
from text_distill.distill.models.teacher import TeacherClassifier
from text_distill.distill.students import STUDENT_KINDS
from text_distill.distill.students.bilstm import BiLSTMClassifier
from text_distill.distill.students.ngram import BagOfNgramsClassifier
from text_distill.distill.students.textcnn import TextCNNClassifier
from text_distill.distill.students.transformer import (
    SubwordSegmenter,
    TransformerClassifier,
    pruned_vocabulary,
)

LABELS = ["sports", "finance", "other"]
TEXTS = ["中国队夺得冠军", "股市大涨 银行利率下调", "", "篮球比赛今晚开始", "x 😀"]
CHARS = [PAD, UNK, *"中国队夺得冠军篮球比赛今晚开始股市大涨银行利率下调"]


def _embedding_student(network: Callable[[int], torch.nn.Module], segmenter: Segmenter | None, unit: str):
    def build() -> StudentClassifier:
        if unit == "ngram":
            vocabulary = [PAD, UNK, *sorted({f for t in TEXTS for f in ngram_features(segmenter(t))})]
        else:
            vocabulary = CHARS
        return StudentClassifier(network(len(vocabulary)), vocabulary, unit, LABELS, 16, segmenter)

    return build


def _transformer_student() -> StudentClassifier:
    teacher = TeacherClassifier(tiny_encoder(TEXTS), LABELS, 16)
    segmenter = SubwordSegmenter(teacher.tokenizer, "query: ", 16)
    vocabulary, teacher_ids = pruned_vocabulary(teacher.tokenizer, segmenter.segment_many(TEXTS[:2]))
    model = TransformerClassifier.from_teacher(teacher.encoder, teacher_ids, len(LABELS), 1, 0.1)
    return StudentClassifier(model, vocabulary, "subword", LABELS, 16, segmenter)


# one student per registered architecture, reading text as training would make it
STUDENTS: dict[str, Callable[[], StudentClassifier]] = {
    "bilstm": _embedding_student(
        lambda n: BiLSTMClassifier(n, len(LABELS), 8, 6, freeze_embeddings=True),
        Segmenter("word", "jieba"),
        "word",
    ),
    "textcnn": _embedding_student(
        lambda n: TextCNNClassifier(n, len(LABELS), 8, (2, 3), 4), Segmenter("char", "rjieba"), "char"
    ),
    "ngram": _embedding_student(
        lambda n: BagOfNgramsClassifier(n, len(LABELS), 8, hidden_size=6),
        Segmenter("ngram", "rjieba"),
        "ngram",
    ),
    "transformer": _transformer_student,
}


def test_every_registered_architecture_has_a_round_trip_test():
    assert set(STUDENTS) == set(STUDENT_KINDS)


@pytest.mark.parametrize("architecture", sorted(STUDENTS))
def test_a_saved_student_loads_back_with_identical_outputs(architecture, tmp_path):
    torch.manual_seed(0)
    student = STUDENTS[architecture]().eval()
    student.save_pretrained(tmp_path / "student")
    assert {"config.json", "vocabulary.json", "model.safetensors"} <= {
        path.name for path in (tmp_path / "student").iterdir()
    }
    assert json.loads((tmp_path / "student/config.json").read_text())["architecture"] == architecture
    loaded = load_student(tmp_path / "student")
    assert type(loaded.model) is type(student.model) and not loaded.training
    assert loaded.label_names == student.label_names and loaded.token_ids == student.token_ids
    assert (loaded.unit, loaded.max_tokens) == (student.unit, student.max_tokens)
    assert [loaded.segmenter(text) for text in TEXTS] == [student.segmenter(text) for text in TEXTS]
    np.testing.assert_array_equal(loaded.predict_logits(TEXTS), student.predict_logits(TEXTS))
    for name, tensor in student.model.state_dict().items():
        torch.testing.assert_close(loaded.model.state_dict()[name], tensor, rtol=0, atol=0)
    # the settings that only matter for training come back too
    trainable = [p.requires_grad for p in student.model.parameters()]
    assert [p.requires_grad for p in loaded.model.parameters()] == trainable


def test_a_student_without_a_segmenter_uses_its_units_builtin_one(tmp_path):
    student = StudentClassifier(BiLSTMClassifier(len(CHARS), 3, 8, 6), CHARS, "char", LABELS, 16).eval()
    student.save_pretrained(tmp_path)
    loaded = load_student(tmp_path)
    assert loaded.segmenter is None
    np.testing.assert_array_equal(loaded.predict_logits(TEXTS), student.predict_logits(TEXTS))


def _saved(tmp_path: Path) -> Path:
    STUDENTS["ngram"]().save_pretrained(tmp_path / "student")
    return tmp_path / "student"


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: (d / "config.json").unlink(),
        lambda d: (d / "config.json").write_text('{"architecture": "ngram", '),  # cut short
        lambda d: (d / "config.json").write_text('{"architecture": "ngram"}'),  # keys missing
        lambda d: (d / "config.json").write_text(
            (d / "config.json").read_text().replace('"ngram"', '"lstm9000"', 1)
        ),
        lambda d: (d / "model.safetensors").write_bytes(b"not weights"),
        lambda d: (d / "model.safetensors").unlink(),
        lambda d: (d / "vocabulary.json").unlink(),
    ],
    ids=[
        "no_config",
        "truncated_config",
        "incomplete_config",
        "unknown_architecture",
        "corrupt_weights",
        "no_weights",
        "no_vocabulary",
    ],
)
def test_a_broken_directory_is_refused_in_one_line(tmp_path, damage):
    directory = _saved(tmp_path)
    damage(directory)
    with pytest.raises(StudentDirectoryError) as error:
        load_student(directory)
    message = str(error.value)
    assert "\n" not in message and str(directory) in message


def test_a_missing_directory_is_refused_in_one_line(tmp_path):
    with pytest.raises(StudentDirectoryError, match="not a saved student") as error:
        load_student(tmp_path / "nowhere")
    assert "\n" not in str(error.value)
