"""Which teacher's logits the n-gram student learns most from: the distilled student retrained from
the cached soft targets of a `make distill` with the combined logits (the default) and with each
member's logits alone (``member_logits``: the transformers, then the n-gram members), dev split only:

    .venv/bin/python bench/student_targets.py [--seed 42] [--alpha 0.5]

No teacher pass: every member's logits are in the soft-target table. Each row is one student at the
recipe of conf/base (with ``--alpha``), selected on dev macro-F1 like the pipeline's; the test split
is never read. Prints dev accuracy and macro-F1 by epoch, then the dev accuracy of the run's
distilled students (the kept one and each seed variant of conf/base/variants.yml) and of the mean
of their logits.
"""

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from sklearn.metrics import accuracy_score

from teacher_precision import machine
from text_distill.distill.training.recipe import StudentRecipe
from text_distill.distill.training.student_training import StudentData, Transfer, train_distilled
from text_distill.variants import read_variants, seed_dataset

ROOT = Path(__file__).resolve().parents[1]
VECTORS = ("word_vocabulary", "word_embeddings", "char_vocabulary", "char_embeddings")
TARGETS = ("soft_targets", "transfer_targets", "teacher", "teacher_weights")
INPUTS = ("segmented_examples", "train_dev_examples", *TARGETS, *VECTORS, "word_segmenter", "label_names")


def with_member_logits(soft_targets: pd.DataFrame, member: int, classes: int) -> pd.DataFrame:
    """The soft targets with one member's logits in place of the combined ones."""
    logits = np.stack(soft_targets["member_logits"].to_numpy()).reshape(len(soft_targets), -1, classes)
    return soft_targets.assign(logits=list(logits[:, member]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--alpha", type=float, default=None, help="hard-label weight (default: the recipe's)")
    args = parser.parse_args()
    bootstrap_project(ROOT)
    with KedroSession.create(project_path=ROOT) as session:
        context = session.load_context()
        data = {name: context.catalog.load(name) for name in INPUTS}
        params = context.params["student"]
        seeds = read_variants(ROOT / "conf").student_seeds
        students = {"student": context.catalog.load("student")} | {
            seed_dataset("student", seed): context.catalog.load(seed_dataset("student", seed))
            for seed in seeds
        }
    changes = {"runtime": {"progress": False}}
    if args.alpha is not None:
        changes["objective"] = {"alpha": args.alpha}
    recipe = StudentRecipe.from_params(params).override(changes).at_seed(args.seed)
    torch.set_num_threads(recipe.runtime.threads)
    vectors = tuple(data[name] for name in VECTORS)
    student_data = StudentData.of(
        data["train_dev_examples"],
        data["segmented_examples"],
        vectors,
        data["word_segmenter"],
        data["label_names"],
    )
    classes = len(data["label_names"])
    ngram_members = list(data["teacher_weights"].get("ngram_weights", {}))  # after the transformers
    width = len(data["soft_targets"]["member_logits"].iloc[0]) // classes
    members = [f"transformer {number}" for number in range(1, width - len(ngram_members) + 1)] + ngram_members
    targets = {f"combined {data['teacher_weights']['weights']}": data["soft_targets"]} | {
        f"{name} alone": with_member_logits(data["soft_targets"], index, classes)
        for index, name in enumerate(members)
    }
    dev = data["train_dev_examples"][data["train_dev_examples"]["split"] == "dev"]
    logits = {name: model.predict_logits(dev["text"].tolist()) for name, model in students.items()}
    logits["mean of their logits"] = np.mean(list(logits.values()), axis=0)
    for name, values in logits.items():
        print(f"{name}: dev accuracy {accuracy_score(dev['label_id'], values.argmax(axis=1)):.4f}")
    objective = recipe.objective
    print(f"{machine()}; seed {args.seed}, alpha {objective.alpha}, kd_loss {objective.kd_loss}")
    for name, soft_targets in targets.items():
        _, log = train_distilled(
            student_data, soft_targets, Transfer.of(data["transfer_targets"]), data["teacher"], recipe
        )
        epochs = ", ".join(f"{row['dev_accuracy']:.4f}/{row['dev_macro_f1']:.4f}" for row in log["history"])
        best = log["history"][log["best_epoch"] - 1]
        print(
            f"{name}: dev accuracy/macro-F1 by epoch {epochs}; best epoch {log['best_epoch']}: "
            f"{best['dev_accuracy']:.4f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
