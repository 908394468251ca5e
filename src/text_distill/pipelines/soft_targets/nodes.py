"""Soft targets: the teacher's logits for the whole transfer set, through a content-addressed store.

The store keeps one row per (teacher fingerprint, exact teacher input text) and only grows: a run
scores only the texts the store lacks, so a rerun with the same teacher and data runs no teacher
forward pass, and a changed teacher never reads another teacher's rows. With a teacher ensemble
(multi_teacher) the target is the members' combined logits, each member's kept alongside.

The teacher scores in bf16 autocast where the device runs it in hardware (``soft_targets.precision``), after
a check that bf16 gives the float32 labels on the dev split; the precision is part of the teacher
fingerprint, so a store folder never mixes bf16 and float32 logits.

The misses are scored in this process (``soft_targets.engine: local``) or by a Ray Data actor pool
(``ray``, ``distill/engines/ray_labelling.py``); both write the same partitions.

``soft_targets`` (labelled examples) and ``transfer_targets`` (augmented and unlabelled rows) are
assembled from the store for the student.
"""

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import torch

from text_distill.distill.baselines import CrossFittedBaseline
from text_distill.distill.engines.labelling import TeacherScoring, scoring_engine, teacher_scorer
from text_distill.distill.soft_target_store import known_keys, lookup, plan_fill, store_key
from text_distill.distill.soft_targets import (
    DATA_CHANGED_ADVICE,
    TEACHER_CHANGED_ADVICE,
    SoftTargetMismatchError,
    soft_target_table,
)
from text_distill.distill.teacher import TeacherClassifier
from text_distill.distill.teacher_precision import (
    check_precision_agreement,
    precision_agreement,
    resolve_device,
    resolve_precision,
)

logger = logging.getLogger(__name__)

TRANSFER_TARGET_COLUMNS = ["source", "origin_id", "teacher_text", "words", "logits", "teacher_fingerprint"]


def scoring_precision(teacher_fingerprint: dict[str, Any], params: dict[str, Any], device: str) -> str:
    """The precision the store rows of this fingerprint are scored in: the one the fingerprint was
    made for (``fingerprint_teacher`` resolved ``soft_targets.precision``; fingerprints from before
    it are float32). An explicit ``precision`` that differs is refused: it would put its logits in
    the other precision's folder."""
    recorded = teacher_fingerprint.get("precision", "float32")
    requested = params.get("precision", "auto")
    if requested != "auto" and resolve_precision(requested, device) != recorded:
        raise SoftTargetMismatchError(
            f"soft_targets.precision is {requested} but the teacher fingerprint was made for {recorded} "
            "scoring: rerun `kedro run --from-nodes teacher.fingerprint_teacher` with the same "
            "soft_targets.precision"
        )
    if recorded == "bf16":
        resolve_precision("bf16", device)  # refuses a device without bf16 support
    return recorded


def fill_soft_target_store(
    teacher: TeacherClassifier,
    ensemble: dict[str, TeacherClassifier],
    ngram_teacher: CrossFittedBaseline | None,
    teacher_fingerprint: dict[str, Any],
    transfer_set: dict[str, Callable[[], pd.DataFrame]],
    store_keys: dict[str, Callable[[], pd.DataFrame]],
    examples: pd.DataFrame,
    params: dict[str, Any],
    ray_params: dict[str, Any] | None = None,
) -> tuple[dict[str, Callable[[], pd.DataFrame]], dict[str, Any], dict[str, dict[str, float]]]:
    """New store partitions for the transfer-set texts the store lacks (scored as they are saved,
    by the ``params.engine`` engine: ``local``, or ``ray`` on the Ray that ``ray_params`` names),
    the labelling report and its MLflow metrics. ``store_keys`` is the store read key column only.

    Before any miss is scored in bf16, the ``examples`` dev split is scored in float32 and bf16 and
    bf16 is refused below ``params.min_agreement`` label agreement; with no misses nothing is scored,
    not even that check."""
    torch.set_num_threads(int(params["threads"]))
    engine_name = params.get("engine", "local")
    engine = scoring_engine(engine_name)
    members = [teacher, *ensemble.values(), *([ngram_teacher] if ngram_teacher is not None else [])]
    if len(members) != len(teacher_fingerprint["members"]):
        raise SoftTargetMismatchError(
            f"{len(members)} teachers but the fingerprint names {len(teacher_fingerprint['members'])}: "
            "rerun `kedro run --pipeline teacher`"
        )
    device = resolve_device(params.get("device", "auto"), "soft_targets.device")
    precision = scoring_precision(teacher_fingerprint, params, device)
    fingerprint = teacher_fingerprint["fingerprint"]
    known = known_keys(store_keys, fingerprint)
    stored_before = len(known)
    plan = plan_fill(transfer_set.values(), "teacher_text", fingerprint, known, group_column="source")
    report = {
        "teacher_fingerprint": fingerprint,
        "teachers": len(members),
        "transfer_rows": plan.wanted_rows,
        "rows_by_source": plan.rows_by_group,
        "store_rows_before": stored_before,
        "store_hits": plan.store_hits,
        "repeated_texts": plan.repeated,
        "teacher_forward_texts": plan.to_score,
        "teacher_forward_passes": plan.to_score * len(members),
        "new_partitions": len(plan.misses),
        "precision": precision,
        "device": device,
        "engine": engine_name,
    }
    logger.info(
        "Soft-target store: %d transfer rows, %d already stored, %d repeats; teacher forward passes: "
        "%d texts x %d teacher(s)",
        plan.wanted_rows,
        plan.store_hits,
        plan.repeated,
        plan.to_score,
        len(members),
    )
    batch_size = int(params["batch_size"])
    if plan.to_score:  # the check and the fill both run on soft_targets.device
        for member in members:
            if isinstance(member, torch.nn.Module):  # the n-gram member runs in scikit-learn
                member.to(device)
    if not plan.to_score:  # a rerun: not one forward pass, the check included
        report["precision_check"] = "skipped: no texts to score"
    elif precision == "float32":
        report["precision_check"] = "not needed: float32"
    else:
        dev_texts = examples.loc[examples["split"] == "dev", "text"].tolist()
        fp32 = teacher_scorer(members, teacher_fingerprint["weights"], batch_size)(dev_texts)[0]
        low = teacher_scorer(members, teacher_fingerprint["weights"], batch_size, precision)(dev_texts)[0]
        agreement = precision_agreement(fp32, low)
        logger.info(
            "Teacher %s against float32 on %d dev texts: labels agree on %.4f, max logit difference %.3g",
            precision,
            agreement["rows"],
            agreement["agreement"],
            agreement["max_abs_logit_diff"],
        )
        check_precision_agreement(agreement, float(params.get("min_agreement", 0.999)), precision)
        report.update(
            precision_check="passed",
            dev_rows=agreement["rows"],
            dev_agreement=agreement["agreement"],
            dev_max_logit_diff=agreement["max_abs_logit_diff"],
            precision_check_forward_passes=2 * agreement["rows"] * len(members),
        )
    logger.info("Teacher scoring: %s on %s; precision check %s", precision, device, report["precision_check"])
    metrics = {
        f"soft_targets_{key}": {"value": float(report[key]), "step": 0}
        for key in (
            "transfer_rows",
            "store_hits",
            "teacher_forward_texts",
            "teacher_forward_passes",
            "dev_rows",
            "dev_agreement",
            "dev_max_logit_diff",
        )
        if key in report
    }
    metrics["soft_targets_bf16"] = {"value": float(precision == "bf16"), "step": 0}
    metrics["soft_targets_cuda"] = {"value": float(device == "cuda"), "step": 0}
    scoring = TeacherScoring(members, teacher_fingerprint["weights"], batch_size, precision)
    partitions, engine_report = engine(plan, "teacher_text", scoring, params, ray_params or {})
    report.update(engine_report)
    return partitions, report, metrics


def assemble_soft_targets(
    examples: pd.DataFrame,
    transfer_set: dict[str, Callable[[], pd.DataFrame]],
    soft_target_store: dict[str, Callable[[], pd.DataFrame]],
    teacher_fingerprint: dict[str, Any],
    teacher_labelling: dict[str, Any],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The store's logits for the labelled examples (``soft_targets``, one row per example) and for
    the augmented and unlabelled rows (``transfer_targets``)."""
    fingerprint = teacher_fingerprint["fingerprint"]
    if teacher_labelling["teacher_fingerprint"] != fingerprint:
        raise SoftTargetMismatchError(
            "the soft-target store was filled for another teacher: rerun `kedro run --pipeline soft_targets`"
        )
    frames = [load() for load in transfer_set.values()]
    labelled_frames = [frame[["source", "teacher_text"]] for frame in frames]
    extra = pd.concat([frame[frame["source"] != "labelled"] for frame in frames], ignore_index=True)
    keys = [store_key(fingerprint, text) for text in examples["text"]]
    extra_keys = [store_key(fingerprint, text) for text in extra["teacher_text"]]
    multi = teacher_labelling["teachers"] > 1
    columns = ["logits", "member_logits"] if multi else ["logits"]
    found = lookup(soft_target_store, fingerprint, [*keys, *extra_keys], columns)
    missing = len(set(keys).union(extra_keys).difference(found.index))
    if missing:
        labelled = set().union(
            *(frame.loc[frame["source"] == "labelled", "teacher_text"] for frame in labelled_frames)
        )
        stale = not set(examples["text"]) <= labelled  # the transfer set predates these examples
        advice = DATA_CHANGED_ADVICE if stale else TEACHER_CHANGED_ADVICE
        raise SoftTargetMismatchError(
            f"the soft-target store lacks {missing} texts of this transfer set: run {advice}"
        )
    rows = found.loc[keys]
    member_logits = None
    if multi:
        member_logits = np.stack(rows["member_logits"].to_numpy()).reshape(
            len(rows), teacher_labelling["teachers"], -1
        )
    soft_targets = soft_target_table(
        examples, np.stack(rows["logits"].to_numpy()), fingerprint, member_logits
    )
    transfer_targets = extra.assign(
        logits=found.loc[extra_keys, "logits"].to_numpy() if len(extra) else [],
        teacher_fingerprint=fingerprint,
    )[TRANSFER_TARGET_COLUMNS]
    logger.info(
        "Soft targets: %d labelled examples, %d transfer rows (%s)",
        len(soft_targets),
        len(transfer_targets),
        transfer_targets["source"].value_counts().to_dict(),
    )
    return soft_targets, transfer_targets
