"""The soft-target stage over the real store dataset: a text is scored once per teacher, a rerun
runs no forward pass, another teacher reuses nothing, and the report counts what happened."""

import numpy as np
import pandas as pd
import pytest
import torch
from tests.conftest import headline_examples, label_through_store, tiny_encoder

from text_distill.datasets.partitions import GrowingPartitionedDataset
from text_distill.distill.data.soft_targets import SoftTargetMismatchError
from text_distill.distill.models.teacher import TeacherClassifier
from text_distill.pipelines.soft_targets.nodes import assemble_soft_targets

LABELS = ["sports", "finance"]


@pytest.fixture(scope="module")
def teachers(thucnews_lines):
    examples = headline_examples(thucnews_lines, 30, 5, 5)
    texts = examples["text"].tolist()
    one = TeacherClassifier(tiny_encoder(texts), LABELS, max_length=32)
    other = TeacherClassifier(tiny_encoder(texts), LABELS, max_length=32)
    with torch.no_grad():
        other.head.bias += 1.0  # a re-trained teacher, say
    return examples, one, other


def single(teacher):
    fingerprint = teacher.fingerprint()
    return {"fingerprint": fingerprint, "members": {"teacher": fingerprint}, "weights": None}


def counted(teacher, monkeypatch):
    calls = []
    original = teacher.predict_logits

    def predict_logits(texts, batch_size=64, progress=False, precision="float32"):
        calls.extend(texts)
        return original(texts, batch_size=batch_size, progress=progress, precision=precision)

    monkeypatch.setattr(teacher, "predict_logits", predict_logits)
    return calls


def test_a_text_is_scored_once_per_teacher(teachers, tmp_path, monkeypatch):
    examples, one, other = teachers
    calls = counted(one, monkeypatch)
    augmented = [("augmented", examples["text"][0][:5], ["x"]), ("augmented", examples["text"][1], ["y"])]
    soft, transfer, report = label_through_store(one, {}, single(one), examples, tmp_path, augmented)
    # the second augmented row repeats a labelled text: scored once
    assert report["teacher_forward_texts"] == len(calls) == 41
    assert (report["store_hits"], report["repeated_texts"], report["transfer_rows"]) == (0, 1, 42)
    assert report["rows_by_source"] == {"labelled": 40, "augmented": 2}
    np.testing.assert_allclose(
        np.stack(soft["logits"]), one.predict_logits(examples["text"].tolist()), atol=1e-5
    )
    assert transfer["source"].tolist() == ["augmented"] * 2
    np.testing.assert_allclose(transfer["logits"][1], soft["logits"][1])

    calls.clear()  # a rerun with the same teacher and data: no forward pass
    again, _, report = label_through_store(one, {}, single(one), examples, tmp_path, augmented)
    assert report["teacher_forward_texts"] == len(calls) == 0 and report["store_hits"] == 42
    pd.testing.assert_frame_equal(again, soft)

    calls.clear()  # one new text: one forward pass
    more = [*augmented, ("unlabelled", "全新的一条新闻标题", ["全新"])]
    _, transfer, report = label_through_store(one, {}, single(one), examples, tmp_path, more)
    assert report["teacher_forward_texts"] == 1 and calls == ["全新的一条新闻标题"]
    assert len(transfer) == 3

    # another teacher never reads the first one's logits
    other_calls = counted(other, monkeypatch)
    soft_other, _, report = label_through_store(other, {}, single(other), examples, tmp_path, augmented)
    assert report["store_hits"] == 0 and report["teacher_forward_texts"] == len(other_calls) == 41
    assert set(soft_other["teacher_fingerprint"]) == {other.fingerprint()}
    assert not np.allclose(np.stack(soft_other["logits"]), np.stack(soft["logits"]))


def test_assembling_refuses_a_store_without_the_texts_or_from_another_teacher(teachers, tmp_path):
    examples, one, other = teachers
    _, _, report = label_through_store(one, {}, single(one), examples.iloc[:10], tmp_path)
    transfer = {"00000-labelled": lambda: examples.assign(source="labelled", teacher_text=examples["text"])}
    store = GrowingPartitionedDataset(path=str(tmp_path), dataset="pandas.ParquetDataset").load()
    with pytest.raises(
        SoftTargetMismatchError, match="lacks 30 texts.*run `kedro run --pipeline soft_targets`"
    ):
        assemble_soft_targets(examples, transfer, store, single(one), report)
    # a transfer set older than the examples (another split or corpus): labelling it again would
    # loop; the advice rebuilds everything from the examples
    stale = {
        "00000-labelled": lambda: examples.iloc[:10].assign(source="labelled", teacher_text=examples["text"])
    }
    with pytest.raises(SoftTargetMismatchError, match="--from-inputs examples"):
        assemble_soft_targets(examples, stale, store, single(one), report)
    with pytest.raises(SoftTargetMismatchError, match="another teacher"):
        assemble_soft_targets(examples, transfer, store, single(other), report)


def test_a_truncated_store_partition_is_moved_aside_and_its_texts_scored_again(
    teachers, tmp_path, monkeypatch, caplog
):
    """A disk that filled up, a copy cut short (issue 25): the fill heals the store and the soft
    targets are those of the whole store, with one warning naming the partition."""
    examples, one, _ = teachers
    augmented = [("augmented", "全新的一条新闻标题", ["全新"])]
    soft, transfer, _ = label_through_store(one, {}, single(one), examples, tmp_path, augmented)
    partitions = sorted(tmp_path.glob("*/*.parquet"))
    assert len(partitions) == 2  # the labelled texts' partition and the augmented one's
    labelled = max(partitions, key=lambda path: pd.read_parquet(path).shape[0])
    labelled.write_bytes(labelled.read_bytes()[:1000])

    calls = counted(one, monkeypatch)
    with caplog.at_level("WARNING"):
        again, transfer_again, report = label_through_store(
            one, {}, single(one), examples, tmp_path, augmented
        )
    assert report["teacher_forward_texts"] == len(calls) == len(examples)  # the damaged partition's texts
    assert report["store_hits"] == 1  # the augmented text, in the whole partition
    pd.testing.assert_frame_equal(again, soft, atol=1e-6)
    pd.testing.assert_frame_equal(transfer_again, transfer, atol=1e-6)
    (warning,) = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warning.startswith(f"{labelled} is damaged (cannot be read: Parquet magic bytes not found")
    assert (labelled.parent / f"{labelled.name}.damaged").is_file()
