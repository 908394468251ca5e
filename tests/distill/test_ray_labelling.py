"""Teacher labelling on Ray Data (a local Ray, 2 CPUs, 2 actors) writes the store partitions the
local engine writes, and a rerun with the store full starts neither a forward pass nor Ray."""

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from tests.conftest import PROJECT_ROOT, tiny_encoder
from tests.stage_params import stage_params

from text_distill.datasets.partitions import GrowingPartitionedDataset
from text_distill.distill.data.transfer_set import transfer_frame
from text_distill.distill.labelling import ray_engine as ray_labelling
from text_distill.distill.labelling.engines import SCORING_ENGINES, scoring_engine
from text_distill.distill.models.teacher import TeacherClassifier
from text_distill.pipelines.soft_targets.nodes import fill_soft_target_store
from text_distill.pipelines.soft_targets.pipeline import create_pipeline

pytestmark = pytest.mark.integration  # Ray Data on a local Ray

RAY = stage_params("ray", num_cpus=2)  # the local Ray of conftest.py's local_ray

LABELS = ["sports", "finance", "politics"]
ENGINE_KEYS = {
    "engine",
    "ray_address",
    "ray_actors",
    "actor_cpus",
    "actor_gpus",
    "actor_threads",
    "actor_device",
}


@pytest.fixture(scope="module")
def setting(thucnews_lines):
    """Two tiny teachers (an ensemble, so member logits are stored too) and a transfer set of three
    partitions: the labelled examples, copies repeating some of them, new texts."""
    texts = [line.split("\t", 1)[1] for line in thucnews_lines[:150]]
    examples = pd.DataFrame(
        {
            "example_id": range(100),
            "split": ["train"] * 80 + ["dev"] * 10 + ["test"] * 10,
            "text": texts[:100],
            "label_id": [i % 3 for i in range(100)],
        }
    )
    one = TeacherClassifier(tiny_encoder(texts), LABELS, max_length=32)
    two = TeacherClassifier(tiny_encoder(texts), LABELS, max_length=32)
    with torch.no_grad():
        two.head.bias += torch.tensor([0.5, -0.5, 0.0])
    members = {"teacher": one.fingerprint(), "seed_7": two.fingerprint()}
    fingerprint = {"fingerprint": "e" * 64, "members": members, "weights": None}
    frames = {
        "00000-labelled": transfer_frame("labelled", list(range(100)), texts[:100], None),
        "00001-augmented": transfer_frame("augmented", [-1] * 30, texts[90:120], [["w"]] * 30),
        "00002-unlabelled": transfer_frame("unlabelled", [-1] * 30, texts[120:150], [["w"]] * 30),
    }
    # default arguments, not globals: Ray pickles these loaders by value for its reader tasks
    transfer = {name: (lambda frame=frame: frame) for name, frame in frames.items()}
    return examples, one, {"seed_7": two}, fingerprint, transfer


def store(path, **dataset):
    return GrowingPartitionedDataset(
        path=str(path), dataset={"type": "pandas.ParquetDataset", **dataset}, filename_suffix=".parquet"
    )


def fill(setting, path, engine, ray_params=RAY):
    examples, teacher, ensemble, fingerprint, transfer = setting
    params = stage_params(
        "soft_targets", batch_size=8, threads=1, precision="float32", device="cpu", engine=engine
    )
    params.update(ray_actors=2, actor_cpus=0.5, ray_batch_texts=16)  # several calls per actor
    partitions, report, metrics = fill_soft_target_store(
        teacher,
        fingerprint,
        transfer,
        store(path, load_args={"columns": ["key"]}).load(),
        examples,
        params,
        ray_params,
        **ensemble,
    )
    store(path).save(partitions)
    return report, metrics


def test_ray_fill_writes_the_local_partitions_then_a_rerun_starts_nothing(
    setting, local_ray, tmp_path, monkeypatch
):
    local_report, local_metrics = fill(setting, tmp_path / "local", "local")
    ray_report, ray_metrics = fill(setting, tmp_path / "ray", "ray")

    assert ray_report["engine"] == "ray" and ray_report["ray_actors"] == 2
    assert ray_report["actor_device"] == "cpu" and local_report["engine"] == "local"
    without_engine = {key: value for key, value in ray_report.items() if key not in ENGINE_KEYS}
    assert without_engine == {key: value for key, value in local_report.items() if key not in ENGINE_KEYS}
    assert ray_metrics == local_metrics
    # 100 labelled + 20 new copies (10 repeat labelled texts) + 30 unlabelled, in 3 partitions
    assert (ray_report["teacher_forward_texts"], ray_report["repeated_texts"]) == (150, 10)
    assert ray_report["new_partitions"] == 3

    local, remote = store(tmp_path / "local").load(), store(tmp_path / "ray").load()
    assert sorted(local) == sorted(remote) and len(local) == 3
    for pid in local:
        mine, theirs = local[pid](), remote[pid]()
        assert mine.columns.tolist() == theirs.columns.tolist()
        assert mine["key"].tolist() == theirs["key"].tolist()
        assert (theirs["teacher_fingerprint"] == "e" * 64).all()
        logits, ray_logits = np.stack(mine["logits"]), np.stack(theirs["logits"])
        np.testing.assert_array_equal(logits.argmax(1), ray_logits.argmax(1))
        np.testing.assert_allclose(ray_logits, logits, atol=1e-4)
        assert ray_logits.dtype == np.float32 and ray_logits.shape[1] == len(LABELS)
        np.testing.assert_allclose(
            np.stack(theirs["member_logits"]), np.stack(mine["member_logits"]), atol=1e-4
        )

    # the store is full: no forward pass, and Ray is not even asked for
    examples, teacher, ensemble, _, _ = setting
    calls = []
    for member in (teacher, *ensemble.values()):
        original = member.predict_logits
        monkeypatch.setattr(
            member, "predict_logits", lambda *a, f=original, **k: calls.append(1) or f(*a, **k)
        )
    monkeypatch.setattr(ray_labelling, "connect", lambda *_: pytest.fail("Ray started for a full store"))
    report, _ = fill(setting, tmp_path / "ray", "ray")
    assert report["teacher_forward_texts"] == report["teacher_forward_passes"] == len(calls) == 0
    assert report["store_hits"] == 160 and report["precision_check"] == "skipped: no texts to score"
    assert len(store(tmp_path / "ray").load()) == 3


def test_an_unknown_engine_names_the_known_ones():
    assert set(SCORING_ENGINES) == {"local", "ray"}
    with pytest.raises(ValueError, match=r"\['local', 'ray'\].*'spark'"):
        scoring_engine("spark")


def test_a_local_ray_with_every_cpu_reserved_by_actors_is_refused(setting, local_ray, tmp_path):
    examples, teacher, ensemble, fingerprint, transfer = setting
    params = stage_params(
        "soft_targets", batch_size=8, threads=1, precision="float32", device="cpu", engine="ray"
    )
    partitions, _, _ = fill_soft_target_store(
        teacher,
        fingerprint,
        transfer,
        {},
        examples,
        {**params, "ray_actors": 2, "actor_cpus": 1},
        RAY,
        **ensemble,
    )
    with pytest.raises(ValueError, match="reserves 2 of the local Ray's 2 CPUs.*44687"):
        next(iter(partitions.values()))()


def test_the_default_run_stays_local_and_the_stage_is_wired_to_the_ray_parameters():
    params = yaml.safe_load((PROJECT_ROOT / "conf/base/parameters_soft_targets.yml").read_text())
    assert params["soft_targets"]["engine"] == "local"  # make distill needs no Ray
    assert params["soft_targets"]["ray_actors"] * params["soft_targets"]["actor_cpus"] < 2
    ray_params = yaml.safe_load((PROJECT_ROOT / "conf/base/parameters_ray.yml").read_text())["ray"]
    assert ray_params["address"] is None
    (fill_node,) = [
        node for node in create_pipeline().nodes if node.name == "soft_targets.fill_soft_target_store"
    ]
    assert fill_node.inputs[-2:] == ["params:soft_targets", "params:ray"]
