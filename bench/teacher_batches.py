"""Teacher fine-tuning time with batches in random order against length-grouped batches
(``teacher.length_group_batches``: null, 4, 50), on a slice of the train split of a `make distill`:

    .venv/bin/python bench/teacher_batches.py [--rows 3000] [--rounds 2]

Each round fine-tunes a fresh copy of the base (``data/06_models/teacher_base``) once per setting,
taking turns, with the default teacher parameters otherwise (1 epoch, batch 32, float32 unless the
CPU has bf16), on the same rows, selected on 1,000 dev rows. Prints Trainer's train runtime, the
padded tokens per row and the dev accuracy of each run.
"""

import argparse
import json
import tempfile

import numpy as np
import pandas as pd
import torch
import yaml

from teacher_precision import ROOT, latest, machine
from text_distill.distill.models.teacher import PretrainedEncoder
from text_distill.distill.training.teacher_trainer import (
    bf16_on,
    run_trainer,
    teacher_trainer,
    training_arguments,
)
from text_distill.distill.training.teacher_training import build_teacher

GROUPS = (None, 4, 50)  # teacher.length_group_batches: random order, the default, transformers' groups


def padded_tokens_per_row(trainer_batches: list[torch.Tensor]) -> float:
    """Tokens a model reads per row, padding included, over the batches of one epoch."""
    return sum(batch.numel() for batch in trainer_batches) / sum(len(batch) for batch in trainer_batches)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    params = yaml.safe_load((ROOT / "conf/base/parameters_teacher.yml").read_text())["teacher"]
    params["progress"] = False
    torch.set_num_threads(int(params["threads"]))
    examples = pd.read_parquet(latest("data/03_primary/train_dev_examples.parquet/*/*"))
    label_names = json.loads(latest("data/03_primary/label_names.json/*/*").read_text())
    train = examples[examples["split"] == "train"].sample(n=args.rows, random_state=0)
    dev = examples[examples["split"] == "dev"].iloc[:1000]
    base = PretrainedEncoder.from_pretrained(str(ROOT / "data/06_models/teacher_base"))
    bf16 = bf16_on("cpu", params)
    print(f"{machine()}; {args.rows} train rows, 1,000 dev rows, {'bf16' if bf16 else 'float32'}")
    times: dict[int | None, list[float]] = {groups: [] for groups in GROUPS}
    for round_ in range(args.rounds):
        for groups in GROUPS:
            teacher = build_teacher(base, label_names, params)  # on a copy: base stays pretrained
            setting = {**params, "length_group_batches": groups}
            with tempfile.TemporaryDirectory() as workdir:
                arguments = training_arguments(setting, workdir, "cpu", bf16, params["batch_size"])
                outcome = run_trainer(teacher_trainer(teacher, train, dev, arguments, groups))
            runtime = outcome.history[-1]["train_runtime"]
            times[groups].append(runtime)
            print(
                f"round {round_ + 1}  groups of {groups!s:>4} batches: {runtime:6.1f} s  "
                f"dev accuracy {outcome.best['eval_accuracy']:.4f}"
            )
    # tokens read, from the batches Trainer draws (same rows, same batch size)
    teacher = build_teacher(base, label_names, params)
    for groups in GROUPS:
        with tempfile.TemporaryDirectory() as workdir:
            setting = {**params, "length_group_batches": groups}
            arguments = training_arguments(setting, workdir, "cpu", bf16, params["batch_size"])
            trainer = teacher_trainer(teacher, train, dev, arguments, groups)
            batches = [batch["input_ids"] for batch in trainer.get_train_dataloader()]
        print(
            f"groups of {groups!s:>4} batches: median train runtime {np.median(times[groups]):.1f} s "
            f"({np.median(times[groups]) / np.median(times[None]):.3f} of random order), "
            f"{padded_tokens_per_row(batches):.1f} tokens per row read"
        )


if __name__ == "__main__":
    main()
