"""The BiLSTM student in torch, in ONNX (fp32) and in ONNX dynamic int8 (onnxruntime): agreement with
the torch student's labels and accuracy on the whole test split, size, and speed.

Uses the newest BiLSTM-over-words student and the newest full examples table of a `make distill`
(or the files given):

    .venv/bin/python bench/onnx_student.py [--student PATH] [--examples PATH] [--threads 2] [--rounds 3]

Prints a markdown table. Speed: model-only throughput at batch 64 (ids prepared in advance) and end
to end (raw text, normalisation and jieba included), median of ``--rounds`` rounds of at least 2 s
over 2,000 test headlines; latency at batch 1 end to end over 300 headlines. One process, the same
threads, the three runtimes taking turns (text_distill.distill.evaluation.speed).
"""

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from teacher_precision import ROOT
from text_distill.distill.evaluation.speed import interleaved_latency, interleaved_throughput
from text_distill.distill.export.onnx_export import OnnxNetwork, export_onnx, quantise_int8
from text_distill.distill.models.student import load_student
from text_distill.distill.students.bilstm import BiLSTMClassifier

BATCH = 64
SPEED_TEXTS = 2000
LATENCY_TEXTS = 300


def newest_bilstm_student() -> Path:
    """The newest distilled student that is a BiLSTM over words."""
    for path in sorted(ROOT.glob("data/06_models/student/*/student"), reverse=True):
        student = load_student(path)
        if isinstance(student.model, BiLSTMClassifier) and student.unit == "word":
            return path
    raise SystemExit("no BiLSTM-over-words student under data/06_models/student: run `make distill`")


def newest_full_examples() -> Path:
    """The newest examples table with the most rows (the full corpus, not a smoke slice)."""
    paths = sorted(ROOT.glob("data/03_primary/examples.parquet/*/examples.parquet"), reverse=True)
    if not paths:
        raise SystemExit("no examples under data/03_primary: run `make distill`")
    return max(paths, key=lambda path: len(pd.read_parquet(path, columns=["split"])))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--student", type=Path)
    parser.add_argument("--examples", type=Path)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    student_path = args.student or newest_bilstm_student()
    examples_path = args.examples or newest_full_examples()
    student = load_student(student_path).eval()
    examples = pd.read_parquet(examples_path)
    test = examples[examples["split"] == "test"]
    texts, labels = test["text"].tolist(), test["label_id"].to_numpy()
    print(f"student: {student_path}\nexamples: {examples_path} ({len(texts)} test headlines)")

    start = time.perf_counter()
    onnx_fp32 = export_onnx(student)  # in a child process: the exporter would slow torch in this one
    export_seconds, start = time.perf_counter() - start, time.perf_counter()
    onnx_int8 = quantise_int8(onnx_fp32)
    quantise_seconds = time.perf_counter() - start
    print(f"export {export_seconds:.1f} s, quantisation {quantise_seconds:.1f} s")
    networks = {
        "torch": None,
        "onnx_fp32": OnnxNetwork(onnx_fp32, args.threads),
        "onnx_int8": OnnxNetwork(onnx_int8, args.threads),
    }
    sizes = {"torch": student_path.stat().st_size, "onnx_fp32": len(onnx_fp32), "onnx_int8": len(onnx_int8)}

    logits = {name: student.predict_logits(texts, BATCH, network) for name, network in networks.items()}
    reference = logits["torch"].argmax(axis=1)

    speed_texts = texts[:SPEED_TEXTS]
    by_length = sorted(speed_texts, key=len)
    batches = [student.encode(by_length[i : i + BATCH]) for i in range(0, len(by_length), BATCH)]
    workloads = {}
    for name, network in networks.items():
        run = network or (lambda ids, lengths: student(ids, lengths))

        def model_only(run=run) -> int:
            with torch.inference_mode():
                for token_ids, lengths in batches:
                    run(token_ids, lengths)
            return len(speed_texts)

        workloads[f"{name}_model_only"] = model_only
        workloads[name] = lambda network=network: len(student.predict_logits(speed_texts, BATCH, network))
    speed = interleaved_throughput(workloads, args.rounds, min_seconds=2.0)
    latency = interleaved_latency(
        {
            name: lambda t, network=network: student.predict_logits(t, 1, network)
            for name, network in networks.items()
        },
        texts[:LATENCY_TEXTS],
    )

    print(
        "\n| runtime | agreement with torch | test accuracy | max logit difference | size | "
        "texts/s model-only (batch 64) | texts/s end to end (batch 64) | p50 / p95 latency (batch 1) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name in networks:
        predicted = logits[name].argmax(axis=1)
        differ = int((predicted != reference).sum())
        print(
            f"| {name} | {(predicted == reference).mean():.2%} ({differ} differ) "
            f"| {(predicted == labels).mean():.4f} | {np.abs(logits[name] - logits['torch']).max():.2e} "
            f"| {sizes[name] / 1e6:.1f} MB | {speed[f'{name}_model_only']:,.0f} | {speed[name]:,.0f} "
            f"| {latency[name]['latency_p50_ms']:.2f} / {latency[name]['latency_p95_ms']:.2f} ms |"
        )


if __name__ == "__main__":
    main()
