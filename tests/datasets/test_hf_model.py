"""Model directories as datasets: a teacher (or a pretrained encoder) saved with ``save_pretrained``
and loaded back equal, a new version per save, the latest loaded; a named collection of teachers
in one directory, its order kept."""

import pytest
import torch
from kedro.io import DatasetError, Version
from tests.conftest import tiny_encoder

from text_distill.datasets.hf_model import HFModelDirectoryDataset
from text_distill.distill.models.teacher import PretrainedEncoder, TeacherClassifier

TEXTS = ["中国队夺得冠军", "股市今日大涨", "篮球比赛今晚开始", "银行利率下调"]
TEACHER = "text_distill.distill.models.teacher.TeacherClassifier"
BASE_CLASS = "text_distill.distill.models.teacher.PretrainedEncoder"
V1, V2 = "2024-01-01T00.00.00.000Z", "2024-01-02T00.00.00.000Z"


def teacher(seed: int, labels=("sports", "finance")) -> TeacherClassifier:
    model = TeacherClassifier(tiny_encoder(TEXTS), list(labels), max_length=16, text_prefix="query: ")
    torch.manual_seed(seed)
    torch.nn.init.normal_(model.head.weight)  # a head that differs from seed to seed
    return model.eval()


def versioned(path, cls=HFModelDirectoryDataset, load=None, save=None):
    return cls(filepath=str(path), model_class=TEACHER, version=Version(load, save))


def test_a_teacher_round_trips_through_a_versioned_directory(tmp_path):
    model = teacher(1)
    dataset = versioned(tmp_path / "teacher", save=V1)
    assert not dataset.exists()
    dataset.save(model)
    assert dataset.exists()
    assert sorted(p.name for p in (tmp_path / "teacher").iterdir()) == [V1]
    loaded = dataset.load()
    assert isinstance(loaded, TeacherClassifier)
    assert loaded.fingerprint() == model.fingerprint()  # weights, tokenizer, labels, prefix
    assert loaded.label_names == ["sports", "finance"] and loaded.text_prefix == "query: "
    assert loaded.predict_logits(TEXTS) == pytest.approx(model.predict_logits(TEXTS), abs=1e-6)


def test_each_save_is_a_new_version_and_load_takes_the_latest(tmp_path):
    first, second = teacher(1), teacher(2, labels=("a", "b", "c"))
    versioned(tmp_path / "teacher", save=V1).save(first)
    versioned(tmp_path / "teacher", save=V2).save(second)
    assert sorted(p.name for p in (tmp_path / "teacher").iterdir()) == [V1, V2]
    assert versioned(tmp_path / "teacher").load().fingerprint() == second.fingerprint()
    assert versioned(tmp_path / "teacher", load=V1).load().fingerprint() == first.fingerprint()


def test_a_version_is_never_overwritten(tmp_path):
    dataset = versioned(tmp_path / "teacher", save=V1)
    dataset.save(teacher(1))
    with pytest.raises(DatasetError, match="must not exist"):
        versioned(tmp_path / "teacher", save=V1).save(teacher(2))
    assert versioned(tmp_path / "teacher").load().fingerprint() == teacher(1).fingerprint()


def test_a_missing_version_does_not_exist(tmp_path):
    assert not versioned(tmp_path / "teacher").exists()
    assert not versioned(tmp_path / "teacher", load=V1).exists()
    versioned(tmp_path / "teacher", save=V2).save(teacher(1))
    assert not versioned(tmp_path / "teacher", load=V1).exists()
    assert versioned(tmp_path / "teacher", load=V2).exists()
    with pytest.raises(DatasetError):
        versioned(tmp_path / "teacher", load=V1).load()


def test_an_unversioned_encoder_directory_round_trips(tmp_path):
    """As ``teacher_base`` is: the pretrained encoder, replaced whole by a new save."""
    dataset = HFModelDirectoryDataset(
        filepath=str(tmp_path / "teacher_base"),
        model_class=BASE_CLASS,
    )
    assert not dataset.exists()
    encoder = tiny_encoder(TEXTS)
    dataset.save(encoder)
    assert dataset.exists() and (tmp_path / "teacher_base" / "config.json").is_file()
    loaded = dataset.load()
    assert isinstance(loaded, PretrainedEncoder)
    expected = encoder.encoder.state_dict()
    assert all(torch.equal(tensor, expected[name]) for name, tensor in loaded.encoder.state_dict().items())
    assert loaded.tokenizer.get_vocab() == encoder.tokenizer.get_vocab()
    dataset.save(tiny_encoder(TEXTS[:1]))  # a smaller vocabulary replaces the directory
    assert len(dataset.load().tokenizer.get_vocab()) < len(encoder.tokenizer.get_vocab())


def test_describe_names_the_path_class_and_version(tmp_path):
    dataset = versioned(tmp_path / "teacher", save=V1)
    assert dataset._describe() == {
        "filepath": str(tmp_path / "teacher"),
        "model_class": TEACHER,
        "version": Version(None, V1),
    }
    assert HFModelDirectoryDataset(filepath="m", model_class=TEACHER)._describe()["version"] is None
