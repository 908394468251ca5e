"""Teacher training and inference speed, float32 against bf16 autocast, on this CPU.

Uses the converted teacher base and the examples of the last `make distill` (run that first):

    .venv/bin/python bench/teacher_precision.py [--threads 2] [--steps 6] [--texts 640]

Rounds alternate float32 and bf16 so machine drift hits both alike; prints a markdown table.
"""

import argparse
import platform
import time
from pathlib import Path

import pandas as pd
import torch

from text_distill.distill.teacher import PretrainedEncoder, TeacherClassifier

ROOT = Path(__file__).resolve().parents[1]


def latest(pattern: str) -> Path:
    matches = sorted(ROOT.glob(pattern))
    if not matches:
        raise SystemExit(f"nothing matches {pattern}: run `make distill` first")
    return matches[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=6, help="training steps of batch 32 per round")
    parser.add_argument("--texts", type=int, default=640, help="texts per inference round (batch 64)")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    examples = pd.read_parquet(latest("data/03_primary/examples.parquet/*/examples.parquet"))
    train = examples[examples["split"] == "train"].head(32 * args.steps)
    texts = examples.loc[examples["split"] == "test", "text"].head(args.texts).tolist()
    base = PretrainedEncoder.from_pretrained(latest("data/06_models/teacher_base/*/teacher_base"))
    teacher = TeacherClassifier(base, [str(i) for i in range(10)], 64, "query: ")
    teacher.encoder.get_input_embeddings().weight.requires_grad_(False)
    optimiser = torch.optim.AdamW([p for p in teacher.parameters() if p.requires_grad], lr=1e-5)

    results: dict[str, dict[str, list[float]]] = {}
    for _ in range(args.rounds):
        for precision in ("float32", "bf16"):
            autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16")
            teacher.train()
            start = time.perf_counter()
            for step in range(args.steps):
                rows = train.iloc[step * 32 : (step + 1) * 32]
                batch = {
                    k: torch.as_tensor(v) for k, v in teacher.tokenize(rows["text"].tolist(), True).items()
                }
                with autocast:
                    loss = teacher(**batch, labels=torch.as_tensor(rows["label_id"].to_numpy() % 10))["loss"]
                loss.backward()
                optimiser.step()
                optimiser.zero_grad()
            train_rate = len(train) / (time.perf_counter() - start)
            start = time.perf_counter()
            with autocast:
                teacher.predict_logits(texts, batch_size=64)
            infer_rate = len(texts) / (time.perf_counter() - start)
            entry = results.setdefault(precision, {"train": [], "infer": []})
            entry["train"].append(train_rate)
            entry["infer"].append(infer_rate)

    machine = platform.processor() or platform.machine()
    print(f"machine: {machine}, {torch.get_num_threads()} threads, torch {torch.__version__}")
    print("| precision | training rows/s (batch 32) | inference texts/s (batch 64) |")
    print("|---|---|---|")
    for precision, entry in results.items():
        print(f"| {precision} | {max(entry['train']):.1f} | {max(entry['infer']):.1f} |")


if __name__ == "__main__":
    main()
