"""Combining teachers: the weights of a heterogeneous ensemble (fine-tuned transformers plus a
cross-fitted n-gram model), chosen on dev."""

import hashlib
import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from sklearn.metrics import accuracy_score

from text_distill.distill.losses import combine_teacher_logits
from text_distill.distill.teacher import TeacherClassifier

NGRAM_MEMBER = "tfidf_char_svm"  # the heterogeneous member: the strongest reference baseline


def choose_weights(
    transformer_logits: Sequence[np.ndarray],
    ngram_logits: np.ndarray,
    labels: np.ndarray,
    steps: int = 20,
) -> tuple[list[float], dict[str, Any]]:
    """The n-gram member's weight ``w`` in ``0, 1/steps, ..., 1`` with the best dev accuracy (the
    smallest of equals: the transformers are preferred); the transformers share ``1 - w`` equally.
    Returns one weight per member (transformers first) and the dev accuracy at every ``w``."""
    members = [torch.from_numpy(np.asarray(logits)) for logits in (*transformer_logits, ngram_logits)]
    share = len(transformer_logits)
    by_weight = {}
    for step in range(steps + 1):
        w = step / steps
        weights = [(1 - w) / share] * share + [w]
        combined = combine_teacher_logits(members, weights).numpy()
        by_weight[round(w, 6)] = float(accuracy_score(labels, combined.argmax(axis=1)))
    best = max(by_weight, key=by_weight.get)  # the first, so the smallest, of equals
    report = {
        "ngram_weight": best,
        "dev_accuracy": by_weight[best],
        "dev_accuracy_by_ngram_weight": {str(w): acc for w, acc in by_weight.items()},
        "dev_accuracy_transformers_alone": by_weight[0.0],
        "dev_accuracy_ngram_alone": by_weight[1.0],
        "dev_rows": int(len(labels)),
    }
    return [(1 - best) / share] * share + [best], report


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
            "(the main one first, then ensemble_seeds, then the n-gram member if teacher.ngram_member)"
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
