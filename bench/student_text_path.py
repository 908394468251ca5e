"""Where a word or n-gram student's end-to-end time goes: normalisation, word segmentation, tokens
(n-gram features), vocabulary lookup, padding, against the whole ``predict_logits``.

Uses the newest distilled student and examples of a `make distill` (or the files given):

    .venv/bin/python bench/student_text_path.py [--student PATH] [--examples PATH] [--texts 2000]

One thread; each stage timed alone over the same test texts (best of 5); prints texts per second.
"""

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import torch

from teacher_precision import latest
from text_distill.distill.data.text import normalise_text, word_segmenter
from text_distill.distill.data.vocab import UNK
from text_distill.distill.models.student import load_student
from text_distill.distill.students.ngram import ngram_index


def rate(run: Callable[[], object], count: int, repeats: int = 5) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return count / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--student", type=Path)
    parser.add_argument("--examples", type=Path)
    parser.add_argument("--texts", type=int, default=2000)
    args = parser.parse_args()
    torch.set_num_threads(1)
    student = load_student(args.student or latest("data/06_models/student/*/student"))
    examples = pd.read_parquet(args.examples or latest("data/03_primary/examples.parquet/*/examples.parquet"))
    texts = examples.loc[examples["split"] == "test", "text"].tolist()[: args.texts]
    segmenter = student.segmenter
    normalised = [normalise_text(text) for text in texts]
    words = [word_segmenter(segmenter.words)(text) for text in normalised]
    tokens = [segmenter.from_words(text_words) for text_words in words]
    ids = [student.ids(text_tokens) for text_tokens in tokens]
    stages: dict[str, Callable[[], object]] = {
        "normalise": lambda: [normalise_text(text) for text in texts],
        f"segment ({segmenter.words})": lambda: [word_segmenter(segmenter.words)(t) for t in normalised],
        f"tokens ({segmenter.unit})": lambda: [segmenter.from_words(w) for w in words],
        "vocabulary lookup": lambda: [student.ids(t) for t in tokens],
        "padding (batches of 64)": lambda: [student.batch(ids[i : i + 64]) for i in range(0, len(ids), 64)],
    }
    index = ngram_index(student)
    if index is not None:  # the n-gram student's own path: ids of a batch at once (ngram_index.py)
        flat, lengths = index.ids(words)
        same = flat.tolist() == [i for text_ids in ids for i in (text_ids or [student.token_ids[UNK]])]
        print(f"integer-key ids equal the string path's on all {len(words)} texts: {same}")
        stages["tokens + lookup, integer keys (batches of 64)"] = lambda: [
            index.ids(words[i : i + 64]) for i in range(0, len(words), 64)
        ]
    stages |= {
        "predict_logits, end to end": lambda: student.predict_logits(texts, 64),
    }
    print(f"{len(texts)} test texts, {sum(map(len, tokens)) / len(tokens):.1f} tokens a text, 1 thread\n")
    print("| stage | texts/s | microseconds a text |")
    print("|---|---|---|")
    for name, run in stages.items():
        speed = rate(run, len(texts))
        print(f"| {name} | {speed:,.0f} | {1e6 / speed:.1f} |")


if __name__ == "__main__":
    main()
