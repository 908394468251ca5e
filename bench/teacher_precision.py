"""Teacher training and inference speed, float32 against bf16 autocast, on this CPU.

Uses the converted teacher base and the examples of the last `make distill` (run that first):

    .venv/bin/python bench/teacher_precision.py [--threads 2] [--steps 6] [--texts 640]

With ``--scoring``, the fine-tuned teacher of the last run scores the whole dev split in both
precisions, as the soft-target stage's check does: label agreement, max logit difference, texts/s:

    .venv/bin/python bench/teacher_precision.py --scoring [--threads 2] [--chunk 640]

Rounds (chunks with --scoring) alternate float32 and bf16 so machine drift hits both alike; prints
a markdown table.
"""

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from text_distill.distill.models.teacher import PretrainedEncoder, TeacherClassifier
from text_distill.distill.models.teacher_precision import precision_agreement

ROOT = Path(__file__).resolve().parents[1]


def latest(pattern: str) -> Path:
    matches = sorted(ROOT.glob(pattern))
    if not matches:
        raise SystemExit(f"nothing matches {pattern}: run `make distill` first")
    return matches[-1]


def machine() -> str:
    """The CPU's model name and whether it has native bf16 instructions (else bf16 is emulated)."""
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or platform.machine()
    name = next((line.split(":", 1)[1].strip() for line in info.splitlines() if "model name" in line), "?")
    native = [flag for flag in ("avx512_bf16", "amx_bf16") if f" {flag}" in info]
    return f"{name} ({', '.join(native) or 'no avx512_bf16/amx_bf16'}), {os.cpu_count()} cores"


def scoring(args: argparse.Namespace) -> None:
    """The fine-tuned teacher over the dev split, float32 and bf16 taking turns per chunk."""
    examples = pd.read_parquet(latest("data/03_primary/examples.parquet/*/examples.parquet"))
    texts = examples.loc[examples["split"] == "dev", "text"].tolist()
    directory = latest("data/06_models/teacher/*/teacher")
    teacher = TeacherClassifier.from_pretrained(directory)
    precisions = ("float32", "bf16")
    for precision in precisions:  # warm-up, not timed
        teacher.predict_logits(texts[: args.batch], args.batch, precision=precision)
    logits = {p: np.zeros((len(texts), len(teacher.label_names)), np.float32) for p in precisions}
    seconds = dict.fromkeys(precisions, 0.0)
    load_before = os.getloadavg()[0]
    for n, start in enumerate(range(0, len(texts), args.chunk)):
        chunk = texts[start : start + args.chunk]
        for precision in precisions if n % 2 == 0 else precisions[::-1]:
            began = time.perf_counter()
            logits[precision][start : start + len(chunk)] = teacher.predict_logits(
                chunk, args.batch, precision=precision
            )
            seconds[precision] += time.perf_counter() - began
    agreement = precision_agreement(logits["float32"], logits["bf16"])
    top2 = np.sort(logits["float32"], axis=1)[:, -2:]
    flipped = logits["float32"].argmax(1) != logits["bf16"].argmax(1)
    rate = {p: len(texts) / seconds[p] for p in precisions}
    print(f"teacher: {directory.relative_to(ROOT)}; {len(texts)} dev texts, batch {args.batch}")
    print(f"machine: {machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}")
    print(f"load average (1 min) before / after: {load_before:.2f} / {os.getloadavg()[0]:.2f}")
    print("| precision | seconds | texts/s |")
    print("|---|---|---|")
    for precision in precisions:
        print(f"| {precision} | {seconds[precision]:.1f} | {rate[precision]:.1f} |")
    print(f"bf16 / float32 speed: {rate['bf16'] / rate['float32']:.2f}x")
    print(
        f"label agreement {agreement['agreement']:.4%} ({int(flipped.sum())} of {agreement['rows']} flipped; "
        f"their float32 top-2 margins {np.round(top2[flipped, 1] - top2[flipped, 0], 4).tolist()}), "
        f"max abs logit difference {agreement['max_abs_logit_diff']:.4f}, "
        f"mean {float(np.abs(logits['float32'] - logits['bf16']).mean()):.4f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=6, help="training steps of batch 32 per round")
    parser.add_argument("--texts", type=int, default=640, help="texts per inference round (batch 64)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--scoring", action="store_true", help="the fine-tuned teacher over the dev split")
    parser.add_argument("--chunk", type=int, default=640, help="--scoring: texts per turn")
    parser.add_argument("--batch", type=int, default=64, help="--scoring: batch size")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.scoring:
        scoring(args)
        return

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
            teacher.predict_logits(texts, batch_size=64, precision=precision)
            infer_rate = len(texts) / (time.perf_counter() - start)
            entry = results.setdefault(precision, {"train": [], "infer": []})
            entry["train"].append(train_rate)
            entry["infer"].append(infer_rate)

    print(f"machine: {machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}")
    print("| precision | training rows/s (batch 32) | inference texts/s (batch 64) |")
    print("|---|---|---|")
    for precision, entry in results.items():
        print(f"| {precision} | {max(entry['train']):.1f} | {max(entry['infer']):.1f} |")


if __name__ == "__main__":
    main()
