"""The cost of one distillation epoch: reading cached teacher logits, computing them online, and a
student-alone epoch (no teacher), on the same rows with the same BiLSTM student.

Uses the teacher, soft-target cache, segmentation and word vectors of the last `make distill`:

    .venv/bin/python bench/distill_epoch.py [--rows 4096] [--threads 2] [--rounds 2]

Prints a markdown table; rounds alternate the three modes, in rotating order, so machine drift and
cache effects hit them alike.
"""

import argparse
import time

import numpy as np
import pandas as pd
import torch

from tables import print_best_rounds
from teacher_precision import latest
from text_distill.datasets.hf_model import HFModelDirectoryDataset
from text_distill.distill.evaluation.speed import rotating_rounds
from text_distill.distill.models.student import StudentClassifier
from text_distill.distill.objectives.losses import distillation_loss
from text_distill.distill.students.bilstm import BiLSTMClassifier
from text_distill.distill.training.recipe import StudentRecipe
from text_distill.distill.training.student_loop import train_student

TEACHER_CLASS = "text_distill.distill.models.teacher.TeacherClassifier"

BATCH = 64


def fresh_student(vocabulary: list[str], embeddings: np.ndarray) -> StudentClassifier:
    torch.manual_seed(0)
    model = BiLSTMClassifier(len(vocabulary), 10, embeddings.shape[1], 128, 0.2, embeddings)
    return StudentClassifier(model, vocabulary, "word", [str(i) for i in range(10)], 64)


def online_epoch(student, teacher, texts, ids, labels) -> None:
    """What a toolkit without a cache does: the teacher's forward pass on every batch, every epoch."""
    optimiser = torch.optim.AdamW(student.parameters(), lr=2e-3)
    student.train()
    for start in range(0, len(ids), BATCH):
        batch = slice(start, start + BATCH)
        teacher_logits = torch.from_numpy(teacher.predict_logits(texts[batch], batch_size=BATCH))
        loss, _ = distillation_loss(
            student(*student.batch(ids[batch])), torch.tensor(labels[batch]), teacher_logits, 0.5, 0.5
        )
        loss.backward()
        optimiser.step()
        optimiser.zero_grad()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=4096)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    examples = pd.read_parquet(latest("data/03_primary/examples.parquet/*/examples.parquet"))
    segmented = pd.read_parquet(latest("data/04_feature/segmented_examples.parquet/*/*.parquet"))
    cache = pd.read_parquet(latest("data/07_model_output/soft_targets.parquet/*/*.parquet"))
    vocabulary = pd.read_json(latest("data/04_feature/word_vocabulary.json/*/*.json"), typ="series").tolist()
    embeddings = pd.read_pickle(latest("data/04_feature/word_embeddings.pkl/*/*.pkl"))
    teacher = HFModelDirectoryDataset(
        str(latest("data/06_models/teacher/*/teacher")),
        TEACHER_CLASS,
    ).load()
    rows = (
        examples[examples["split"] == "train"]
        .head(args.rows)
        .merge(segmented[["example_id", "words"]], on="example_id", validate="one_to_one")
        .merge(cache[["example_id", "logits"]], on="example_id", validate="one_to_one")
    )
    texts, labels = rows["text"].tolist(), rows["label_id"].to_numpy()
    cached_logits = np.stack(rows["logits"].to_numpy()).astype(np.float32)
    recipe = StudentRecipe.from_yaml("conf/base/parameters_student.yml").override(
        {
            "optimiser": {"epochs": 1, "batch_size": BATCH, "learning_rate": 2e-3},
            "runtime": {"progress": False},
        }
    )
    config = recipe.training_config()

    def timed(mode: str) -> float:
        student = fresh_student(vocabulary, embeddings)
        ids = [student.ids(list(words)) for words in rows["words"]]
        start = time.perf_counter()
        if mode == "cached logits":
            train_student(student, ids, labels, cached_logits, ids[:1], labels[:1], config)
        elif mode == "online teacher":
            online_epoch(student, teacher, texts, ids, labels)
        else:
            train_student(student, ids, labels, None, ids[:1], labels[:1], config)
        return time.perf_counter() - start

    modes = ("cached logits", "online teacher", "student alone")
    seconds = rotating_rounds(lambda mode, _: timed(mode), modes, args.rounds)
    alone = min(seconds["student alone"])
    print(f"{len(rows)} train rows, batch {BATCH}, {args.threads} threads, best of {args.rounds} rounds\n")
    columns = ("epoch", "seconds", "rows/s", "vs student-alone")
    print_best_rounds(
        seconds, modes, columns, lambda best: f"{best:.1f} | {len(rows) / best:,.0f} | {best / alone:.2f}x"
    )


if __name__ == "__main__":
    main()
