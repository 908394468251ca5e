"""Labelling a transfer set through the soft-target store: which teachers score, in what precision,
what the fill scores and reports, and the students' tables assembled from the store afterwards.

The store keeps one row per (teacher fingerprint, exact teacher input text) and only grows: a fill
scores only the texts the store lacks. The precision is chosen when the teacher is fingerprinted
(``choose_precision``): the dev split is scored in float32 and in bf16, and bf16 is kept only at
``min_agreement`` label agreement or above (below it ``auto`` falls back to float32 and an explicit
``bf16`` is refused).
"""

import logging
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import torch

from text_distill.distill.data.soft_target_store import FillPlan, known_keys, lookup, plan_fill, store_key
from text_distill.distill.data.soft_targets import (
    DATA_CHANGED_ADVICE,
    TEACHER_CHANGED_ADVICE,
    SoftTargetMismatchError,
    soft_target_table,
)
from text_distill.distill.labelling.engines import TeacherScoring, scoring_engine, teacher_scorer
from text_distill.distill.models.baselines import CrossFittedBaseline
from text_distill.distill.models.ensemble import ordered_members
from text_distill.distill.models.teacher import TeacherClassifier
from text_distill.distill.models.teacher_precision import (
    check_precision_agreement,
    precision_agreement,
    resolve_device,
    resolve_precision,
)

logger = logging.getLogger(__name__)

Partitions = Mapping[str, Callable[[], pd.DataFrame]]
Member = TeacherClassifier | CrossFittedBaseline
TEST_ROWS_ADVICE = "`kedro run --pipeline evaluate` (it labels the test rows first)"
TRANSFER_TARGET_COLUMNS = ["source", "origin_id", "teacher_text", "words", "logits", "teacher_fingerprint"]
METRICS = (
    "transfer_rows",
    "store_hits",
    "teacher_forward_texts",
    "teacher_forward_passes",
    "dev_rows",
    "dev_agreement",
    "dev_max_logit_diff",
)


def teacher_members(
    teacher: TeacherClassifier,
    others: Mapping[str, TeacherClassifier | CrossFittedBaseline],
    teacher_fingerprint: dict[str, Any],
) -> list[Member]:
    """The teachers whose combined logits are the soft targets (the main one, then ``others`` by
    name: seed variants and n-gram members), in the fingerprint's order; refused when the
    fingerprint names others."""
    others = ordered_members(others)
    fingerprinted = list(teacher_fingerprint["members"])[1:]
    if list(others) != fingerprinted:
        raise SoftTargetMismatchError(
            f"the teachers besides the main one are {list(others)} but the fingerprint names "
            f"{fingerprinted}: rerun `kedro run --pipeline teacher`"
        )
    return [teacher, *others.values()]


def scoring_precision(teacher_fingerprint: dict[str, Any], params: dict[str, Any], device: str) -> str:
    """The precision the store rows of this fingerprint are scored in: the one the fingerprint was
    made for (``fingerprint_teacher`` resolved ``soft_targets.precision``; fingerprints from before
    it are float32). An explicit ``precision`` that differs is refused: it would put its logits in
    the other precision's folder."""
    recorded = teacher_fingerprint.get("precision", "float32")
    requested = params["precision"]
    if requested != "auto" and resolve_precision(requested, device) != recorded:
        raise SoftTargetMismatchError(
            f"soft_targets.precision is {requested} but the teacher fingerprint was made for {recorded} "
            "scoring: rerun `kedro run --from-nodes teacher.fingerprint_teacher` with the same "
            "soft_targets.precision"
        )
    if recorded == "bf16":
        resolve_precision("bf16", device)  # refuses a device without bf16 support
    return recorded


def plan_labelling(
    transfer_set: Partitions, store_keys: Partitions, fingerprint: str, teachers: int, **settings: Any
) -> tuple[FillPlan, dict[str, Any]]:
    """What a fill must score (the transfer-set texts the store's key column ``store_keys`` lacks)
    and its labelling report: rows wanted, found and scored (``settings``: how it scores)."""
    known = known_keys(store_keys, fingerprint)
    stored_before = len(known)
    plan = plan_fill(transfer_set.values(), "teacher_text", fingerprint, known, group_column="source")
    logger.info(
        "Soft-target store: %d transfer rows, %d already stored, %d repeats; teacher forward passes: "
        "%d texts x %d teacher(s)",
        *(plan.wanted_rows, plan.store_hits, plan.repeated, plan.to_score, teachers),
    )
    return plan, {
        "teacher_fingerprint": fingerprint,
        "teachers": teachers,
        "transfer_rows": plan.wanted_rows,
        "rows_by_source": plan.rows_by_group,
        "store_rows_before": stored_before,
        "store_hits": plan.store_hits,
        "repeated_texts": plan.repeated,
        "teacher_forward_texts": plan.to_score,
        "teacher_forward_passes": plan.to_score * teachers,
        "new_partitions": len(plan.misses),
        **settings,
    }


def dev_agreement(
    members: list[Member], weights: list[float] | None, dev_texts: list[str], precision: str, batch_size: int
) -> dict[str, Any]:
    """How often ``dev_texts``' labels in ``precision`` agree with float32's (``precision_agreement``)."""
    fp32 = teacher_scorer(members, weights, batch_size)(dev_texts)[0]
    low = teacher_scorer(members, weights, batch_size, precision)(dev_texts)[0]
    agreement = precision_agreement(fp32, low)
    logger.info(
        "Teacher %s against float32 on %d dev texts: labels agree on %.4f, max logit difference %.3g",
        *(precision, agreement["rows"], agreement["agreement"], agreement["max_abs_logit_diff"]),
    )
    return agreement


def _check_report(result: str, agreement: dict[str, Any], members: int) -> dict[str, Any]:
    return {
        "precision_check": result,
        "dev_rows": agreement["rows"],
        "dev_agreement": agreement["agreement"],
        "dev_max_logit_diff": agreement["max_abs_logit_diff"],
        "precision_check_forward_passes": 2 * agreement["rows"] * members,
    }


def check_dev_precision(
    members: list[Member],
    weights: list[float] | None,
    dev_texts: list[str],
    precision: str,
    batch_size: int,
    min_agreement: float,
) -> dict[str, Any]:
    """Score ``dev_texts`` in float32 and in ``precision`` and refuse the precision below
    ``min_agreement`` label agreement; what the check found, for the report."""
    agreement = dev_agreement(members, weights, dev_texts, precision, batch_size)
    check_precision_agreement(agreement, min_agreement, precision)
    return _check_report("passed", agreement, len(members))


def choose_precision(
    members: list[Member], weights: list[float] | None, dev_texts: list[str], params: dict[str, Any]
) -> dict[str, Any]:
    """The precision the store is scored in (``soft_targets.precision`` on ``soft_targets.device``)
    and the dev check that chose it. bf16 is kept only where its dev labels agree with float32's on
    at least ``min_agreement`` of the rows: below it, ``auto`` falls back to float32 (a warning says
    so: a 1,000-label teacher agreed on 99.88%, and a learning curve should not stop there) and an
    explicit ``bf16`` is refused in one line."""
    device = resolve_device(params["device"], "soft_targets.device")
    precision = resolve_precision(params["precision"], device)
    if precision == "float32":
        return {"precision": "float32", "precision_check": "not needed: float32"}
    _to_device(members, device)
    agreement = dev_agreement(members, weights, dev_texts, precision, int(params["batch_size"]))
    min_agreement = float(params["min_agreement"])
    if params["precision"] == "auto" and agreement["agreement"] < min_agreement:
        logger.warning(
            "%s labels agree with float32's on %.2f%% of %d dev rows, below soft_targets.min_agreement %s; "
            "soft_targets.precision is auto: the store is scored in float32",
            *(precision, 100 * agreement["agreement"], agreement["rows"], min_agreement),
        )
        refusal = _check_report(f"{precision} refused: float32", agreement, len(members))
        return {"precision": "float32", **refusal}
    check_precision_agreement(agreement, min_agreement, precision)  # an explicit bf16: one line
    return {"precision": precision, **_check_report("passed", agreement, len(members))}


def _to_device(members: list[Member], device: str) -> None:
    """The transformers onto ``device`` (the n-gram members run in scikit-learn)."""
    for member in members:
        if isinstance(member, torch.nn.Module):
            member.to(device)


def precision_check(
    members: list[Member],
    weights: list[float] | None,
    dev_texts: list[str] | None,
    params: dict[str, Any],
    *,
    to_score: int,
    precision: str,
    device: str,
    fingerprinted: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The dev-split precision check when a fill scores ``to_score`` texts in a precision below
    float32, on ``device`` (the transformers move there; the n-gram member runs in scikit-learn);
    a rerun with nothing to score runs not one forward pass, the check included. ``fingerprinted``:
    the check ``teacher.fingerprint_teacher`` made (``choose_precision``'s), reported, not repeated;
    ``dev_texts`` None: the fill that labelled the transfer set checked this fingerprint already."""
    if not to_score:
        check = {"precision_check": "skipped: no texts to score"}
    else:
        _to_device(members, device)
        check = {"precision_check": "not needed: float32"}
    if to_score and precision != "float32" and fingerprinted is not None:
        result = f"{fingerprinted['precision_check']} (when fingerprinted)"
        check = {**fingerprinted, "precision_check": result}
        check.pop("precision_check_forward_passes", None)  # those passes were the teacher stage's
    elif to_score and precision != "float32" and dev_texts is None:
        check = {"precision_check": "checked on dev by the transfer set's fill"}
    elif to_score and precision != "float32":  # a fingerprint from before the teacher stage checked
        min_agreement = float(params["min_agreement"])
        batch_size = int(params["batch_size"])
        check = check_dev_precision(members, weights, dev_texts, precision, batch_size, min_agreement)
    logger.info("Teacher scoring: %s on %s; precision check %s", precision, device, check["precision_check"])
    return check


def fill_store(
    teacher: TeacherClassifier,
    others: Mapping[str, Member],
    teacher_fingerprint: dict[str, Any],
    wanted: Partitions,
    store_keys: Partitions,
    dev_texts: list[str] | None,
    params: dict[str, Any],
    ray_params: dict[str, Any],
) -> tuple[dict[str, Callable[[], pd.DataFrame]], dict[str, Any]]:
    """New store partitions for the ``wanted`` texts the store's key column ``store_keys`` lacks,
    scored by the ``params.engine`` engine (``soft_targets.*``: ``local``, or ``ray`` on the Ray
    that ``ray_params`` names) with the teacher and ``others`` (seed variants and n-gram members by
    name), and the labelling report; bf16 is checked on ``dev_texts`` first (None: checked already)."""
    torch.set_num_threads(int(params["threads"]))
    engine_name = params["engine"]
    engine = scoring_engine(engine_name)
    members = teacher_members(teacher, others, teacher_fingerprint)
    device = resolve_device(params["device"], "soft_targets.device")
    precision = scoring_precision(teacher_fingerprint, params, device)
    fingerprint, weights = teacher_fingerprint["fingerprint"], teacher_fingerprint["weights"]
    settings = {"precision": precision, "device": device}
    plan, report = plan_labelling(
        wanted, store_keys, fingerprint, len(members), **settings, engine=engine_name
    )
    checked = teacher_fingerprint.get("dev_check")  # None: a fingerprint from before the stage checked
    report.update(
        precision_check(
            members, weights, dev_texts, params, to_score=plan.to_score, fingerprinted=checked, **settings
        )
    )
    scoring = TeacherScoring(members, weights, int(params["batch_size"]), precision)
    partitions, engine_report = engine(plan, "teacher_text", scoring, params, ray_params)
    return partitions, {**report, **engine_report}


def labelling_metrics(report: dict[str, Any]) -> dict[str, dict[str, float]]:
    """The labelling report's numbers as MLflow metrics (``soft_targets_<key>``)."""
    metrics = {f"soft_targets_{key}": float(report[key]) for key in METRICS if key in report}
    metrics["soft_targets_bf16"] = float(report["precision"] == "bf16")
    metrics["soft_targets_cuda"] = float(report["device"] == "cuda")
    return {key: {"value": value, "step": 0} for key, value in metrics.items()}


def _missing_texts_advice(examples: pd.DataFrame, frames: list[pd.DataFrame]) -> str:
    """What to rerun when the store lacks texts: the data changed (the transfer set predates these
    examples) or the store was filled for another teacher."""
    labelled = set().union(*(frame.loc[frame["source"] == "labelled", "teacher_text"] for frame in frames))
    return DATA_CHANGED_ADVICE if not set(examples["text"]) <= labelled else TEACHER_CHANGED_ADVICE


def assemble_targets(
    examples: pd.DataFrame, transfer_set: Partitions, store: Partitions, fingerprint: str, teachers: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The store's logits for the labelled ``examples`` (one row per example; with several
    ``teachers``, each member's too) and for the transfer set's augmented and unlabelled rows."""
    frames = [load() for load in transfer_set.values()]
    extra = pd.concat([frame[frame["source"] != "labelled"] for frame in frames], ignore_index=True)
    extra_keys = [store_key(fingerprint, text) for text in extra["teacher_text"]]
    soft_targets, found = _stored(examples, extra_keys, store, fingerprint, teachers, frames)
    transfer_targets = extra.assign(
        logits=found.loc[extra_keys, "logits"].to_numpy() if len(extra) else [],
        teacher_fingerprint=fingerprint,
    )[TRANSFER_TARGET_COLUMNS]
    return soft_targets, transfer_targets


def example_targets(
    examples: pd.DataFrame, store: Partitions, fingerprint: str, teachers: int
) -> pd.DataFrame:
    """The store's logits for ``examples`` alone (the test rows, which evaluation labels)."""
    return _stored(examples, [], store, fingerprint, teachers, None)[0]


def _stored(
    examples: pd.DataFrame,
    extra_keys: list[str],
    store: Partitions,
    fingerprint: str,
    teachers: int,
    frames: list[pd.DataFrame] | None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The soft-target table of ``examples`` and the store rows found for them and ``extra_keys``; a
    text the store lacks is refused with what to rerun (``frames``: the transfer set it came from)."""
    keys = [store_key(fingerprint, text) for text in examples["text"]]
    columns = ["logits", "member_logits"] if teachers > 1 else ["logits"]
    found = lookup(store, fingerprint, [*keys, *extra_keys], columns)
    missing = len(set(keys).union(extra_keys).difference(found.index))
    if missing:
        advice = (
            TEST_ROWS_ADVICE
            if frames is None
            else _missing_texts_advice(examples, [frame[["source", "teacher_text"]] for frame in frames])
        )
        raise SoftTargetMismatchError(
            f"the soft-target store lacks {missing} texts of this transfer set: run {advice}"
        )
    rows = found.loc[keys]
    member_logits = None
    if teachers > 1:
        member_logits = np.stack(rows["member_logits"].to_numpy()).reshape(len(rows), teachers, -1)
    table = soft_target_table(examples, np.stack(rows["logits"].to_numpy()), fingerprint, member_logits)
    return table, found
