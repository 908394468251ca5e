"""Tiny inputs for the sweep and search nodes (the student stage's inputs, from the cache only): a
labelled table, its segmentation, word and character vectors, teacher logits for every example,
and a transfer set with two augmented copies of each train example; the temperature sweep run on
them by a Kedro runner."""

from typing import Any

import numpy as np
import pandas as pd
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import AbstractRunner

from tests.recipes import DEFAULT_RECIPE
from tests.stage_params import stage_params
from text_distill.distill.data.soft_targets import soft_target_table
from text_distill.distill.data.text import segment_chars, segment_words, text_hash
from text_distill.distill.data.vocab import UNK, build_vocabulary
from text_distill.distill.labelling.soft_target_fill import TRANSFER_TARGET_COLUMNS
from text_distill.pipelines.inputs import STUDY
from text_distill.pipelines.temperature_sweep.pipeline import create_pipeline
from text_distill.variants import temperature_dataset

FINGERPRINT = "f" * 64
LABELS = ["sports", "finance"]
TEXTS = {
    "sports": ["中国队夺得冠军", "篮球比赛今晚开始", "足球联赛第十轮", "游泳世锦赛落幕", "排球队获胜"],
    "finance": ["股市今日大涨", "银行利率下调", "基金收益创新高", "央行发布报告", "债券价格回落"],
}
STUDENT = DEFAULT_RECIPE.override(
    {
        "model": {"ngram": {"embedding_dim": 8, "char_ngrams": [1, 2], "word_ngrams": [1, 1], "min_freq": 1}},
        "optimiser": {"epochs": 3, "min_steps": None, "batch_size": 4},
        "runtime": {"seed": 0, "threads": 1, "progress": False},
    }
).as_params()
EVALUATE = {"calibration_bins": 5}


def segmented_and_vectors(examples: pd.DataFrame, rng: np.random.Generator) -> tuple[pd.DataFrame, list[Any]]:
    """The segment stage's outputs for ``examples``: words and characters per example, and the
    train-split word and character vocabularies with random 8-wide vectors (drawn from ``rng``)."""
    segmented = pd.DataFrame(
        {
            "example_id": examples["example_id"],
            "split": examples["split"],
            "words": examples["text"].map(segment_words),
            "chars": examples["text"].map(segment_chars),
        }
    )
    vectors = []
    for column in ("words", "chars"):
        vocabulary = build_vocabulary(segmented.loc[segmented["split"] == "train", column], min_freq=1)
        vectors += [vocabulary, rng.normal(size=(len(vocabulary), 8)).astype(np.float32)]
    return segmented, vectors


def student_inputs() -> dict[str, Any]:
    """The data inputs of ``train_at_temperature`` / ``search_recipe`` by argument name
    (``pipelines.inputs.STUDY`` but its parameters): train and dev rows with their targets, and the
    test rows with theirs apart."""
    rows = []
    for label_id, (label, items) in enumerate(TEXTS.items()):
        for n, text in enumerate(items):
            split = "train" if n < 3 else ("dev" if n == 3 else "test")
            rows.append((label_id * 10 + n, split, text, label, label_id))
    examples = pd.DataFrame(rows, columns=["example_id", "split", "text", "label", "label_id"])
    examples["text_hash"] = examples["text"].map(text_hash)
    rng = np.random.default_rng(0)
    segmented, vectors = segmented_and_vectors(examples, rng)
    logits = np.eye(2, dtype=np.float32)[examples["label_id"]] * 3 + rng.normal(size=(len(examples), 2))
    soft_targets = soft_target_table(examples, logits.astype(np.float32), FINGERPRINT)
    train = examples[examples["split"] == "train"]
    copies = [
        (origin, f"{UNK}{text[copy:]}", [UNK, *segment_words(text[copy:])], label_id)
        for origin, text, label_id in zip(train["example_id"], train["text"], train["label_id"], strict=True)
        for copy in (1, 2)
    ]
    transfer = pd.DataFrame(
        {
            "source": "augmented",
            "origin_id": pd.array([origin for origin, *_ in copies], dtype="int64"),
            "teacher_text": [text for _, text, _, _ in copies],
            "words": [words for _, _, words, _ in copies],
            "logits": [np.eye(2, dtype=np.float32)[label_id] * 2 for *_, label_id in copies],
            "teacher_fingerprint": FINGERPRINT,
        }
    )[TRANSFER_TARGET_COLUMNS]
    test = examples["split"] == "test"
    word_vocabulary, word_embeddings, char_vocabulary, char_embeddings = vectors
    return {
        "segmented": segmented[~test],
        "examples": examples[~test],
        "soft_targets": soft_targets[~test.to_numpy()],
        "transfer_targets": transfer,
        "teacher": None,  # read by a transformer student only
        "word_vocabulary": word_vocabulary,
        "word_embeddings": word_embeddings,
        "char_vocabulary": char_vocabulary,
        "char_embeddings": char_embeddings,
        "word_segmenter": {"segmenter": "jieba"},
        "label_names": LABELS,
        "test_examples": examples[test],
        "test_soft_targets": soft_targets[test.to_numpy()],
    }


def study_inputs(inputs: dict[str, Any], ray: dict[str, Any] | None = None) -> dict[str, Any]:
    """``inputs`` with the student, evaluate and Ray parameters: a sweep node's keyword arguments."""
    return {**inputs, "student_params": STUDENT, "evaluate_params": EVALUATE, "ray_params": ray or {}}


# the temperature sweep on these inputs, as Kedro runs it on an in-memory catalog
TEMPERATURES = (1.0, 4.0)
SWEEP = stage_params("temperature_sweep", overrides={"objective": {"kd_loss": "kl", "alpha": 0.3}})


class KeptDataset(MemoryDataset):
    """A memory dataset the runner does not release once read, for the test to read after the run."""

    def _release(self) -> None:
        pass


SCORES = {"teacher_scores": {"accuracy": 0.9}, "student_alone_scores": {"accuracy": 0.6}}


def sweep_catalog(sweep: dict[str, Any], ray: dict[str, Any] | None = None) -> DataCatalog:
    """The sweep's inputs in memory: the tiny student inputs, the parameters and the two scores."""
    values = {**study_inputs(student_inputs(), ray), "params": sweep}
    wiring = {**STUDY, "params": "params:temperature_sweep"}
    return DataCatalog({wiring[argument]: MemoryDataset(value) for argument, value in values.items()})


def run_sweep(
    runner: AbstractRunner, sweep: dict[str, Any], ray: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Each temperature's run (by dataset) and the table, after ``runner`` ran the sweep."""
    catalog = sweep_catalog(sweep, ray)
    for name, scores in SCORES.items():
        catalog[name] = MemoryDataset(scores)
    outputs = [*map(temperature_dataset, TEMPERATURES), "temperature_sweep_table", "temperature_sweep_plot"]
    for name in outputs:
        catalog[name] = KeptDataset()
    runner.run(create_pipeline(temperatures=TEMPERATURES), catalog)
    return {name: catalog.load(name) for name in outputs[:-1]}
