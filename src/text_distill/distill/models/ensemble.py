"""Combining teachers: the weights of a heterogeneous ensemble (fine-tuned transformers plus
cross-fitted n-gram models), chosen on dev."""

import hashlib
import itertools
import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from sklearn.metrics import accuracy_score

from text_distill.distill.models.baselines import CrossFittedBaseline
from text_distill.distill.models.teacher import TeacherClassifier
from text_distill.distill.objectives.losses import combine_teacher_logits


def split_members(
    members: Mapping[str, Any],
) -> tuple[dict[str, TeacherClassifier], dict[str, CrossFittedBaseline]]:
    """Members by name as (transformers, n-gram members), each in the given order."""
    ngram = {name: member for name, member in members.items() if isinstance(member, CrossFittedBaseline)}
    return {name: member for name, member in members.items() if name not in ngram}, ngram


def ordered_members(members: Mapping[str, Any]) -> dict[str, Any]:
    """Members by name in the order their weights and logits take: transformers, then n-gram members."""
    transformers, ngram = split_members(members)
    return {**transformers, **ngram}


def weight_grid(members: int, steps: int) -> list[tuple[float, ...]]:
    """Every share of ``members`` n-gram members in ``0, 1/steps, ..., 1`` with a sum of at most 1,
    the smallest total first (so, among equals, the transformers keep the most)."""
    grid = [combo for combo in itertools.product(range(steps + 1), repeat=members) if sum(combo) <= steps]
    grid.sort(key=lambda combo: (sum(combo), combo[::-1]))
    return [tuple(step / steps for step in combo) for combo in grid]


def choose_weights(
    transformer_logits: Sequence[np.ndarray],
    ngram_logits: Mapping[str, np.ndarray],
    labels: np.ndarray,
    steps: int = 20,
) -> tuple[list[float], dict[str, Any]]:
    """The n-gram members' shares (each in ``0, 1/steps, ..., 1``, together at most 1) with the best
    dev accuracy (the first of equals in ``weight_grid``'s order); the transformers share the rest
    equally. Returns one weight per member (transformers first, then ``ngram_logits``' order) and
    the dev accuracy at every point of the grid."""
    names = list(ngram_logits)
    members = [
        torch.from_numpy(np.asarray(logits)) for logits in (*transformer_logits, *ngram_logits.values())
    ]
    share = len(transformer_logits)
    by_weights: dict[tuple[float, ...], float] = {}
    for ngram_weights in weight_grid(len(names), steps):
        rest = (1 - sum(ngram_weights)) / share
        combined = combine_teacher_logits(members, [rest] * share + list(ngram_weights)).numpy()
        by_weights[ngram_weights] = float(accuracy_score(labels, combined.argmax(axis=1)))
    best = max(by_weights, key=by_weights.get)  # the first of equals
    alone = {
        name: by_weights[tuple(float(i == j) for j in range(len(names)))] for i, name in enumerate(names)
    }
    report = {
        "ngram_weights": dict(zip(names, best, strict=True)),
        "dev_accuracy": by_weights[best],
        "dev_accuracy_by_ngram_weights": {
            ",".join(f"{w:g}" for w in weights): accuracy for weights, accuracy in by_weights.items()
        },
        "dev_accuracy_transformers_alone": by_weights[(0.0,) * len(names)],
        "dev_accuracy_ngram_alone": alone,
        "dev_rows": int(len(labels)),
    }
    return [(1 - sum(best)) / share] * share + list(best), report


def transformer_logits(
    transformers: Sequence[TeacherClassifier], texts: list[str], batch_size: int, device: str, precision: str
) -> list[np.ndarray]:
    """Each transformer member's logits for ``texts``, scored on ``device`` in ``precision`` (and
    moved back to the CPU after)."""
    logits = []
    for member in transformers:
        logits.append(member.to(device).predict_logits(texts, batch_size, precision=precision))
        member.to("cpu")
    return logits


def _sha256(record: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()


def ensemble_fingerprint(
    members: dict[str, Any], weights: list[float] | None, precision: str
) -> dict[str, Any]:
    """The identity of what produces the soft targets, from the members (each with ``fingerprint()``
    and ``label_names``; the first is the main teacher) and their combination weights. A single
    teacher is its own fingerprint; an ensemble hashes its members' and the weights. A precision
    other than float32 is hashed in too, so bf16 and float32 logits never share a store folder;
    float32 keeps the fingerprint it always had."""
    label_names = next(iter(members.values())).label_names
    for name, member in members.items():
        if member.label_names != label_names:
            raise ValueError(f"ensemble teacher {name} has labels {member.label_names}, not {label_names}")
    if weights is not None and len(weights) != len(members):
        raise ValueError(
            f"teacher.ensemble_weights has {len(weights)} weights for {len(members)} teachers "
            "(the main one first, then variants.yml teacher_seeds, then its ngram_members)"
        )
    prints = [member.fingerprint() for member in members.values()]
    fingerprint = prints[0] if len(prints) == 1 else _sha256({"members": prints, "weights": weights})
    if precision != "float32":
        fingerprint = _sha256({"teacher": fingerprint, "precision": precision})
    return {
        "fingerprint": fingerprint,
        "members": dict(zip(members, prints, strict=True)),
        "weights": weights,
        "label_names": label_names,
        "precision": precision,
    }
