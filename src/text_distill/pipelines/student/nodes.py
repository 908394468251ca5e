"""Student: distilled from cached teacher logits, and the same student trained on hard labels alone
as the baseline. Teacher logits are only ever read from the cache.

``student.architecture`` chooses the model: ``ngram`` (the default, fastText's bag of word and
character n-grams) reads n-gram features of the segmenter's words; ``bilstm`` and ``textcnn`` read
``student.unit`` (word: the segmenter's words with word2vec vectors; char: characters);
``transformer`` is cut from the teacher's first layers, reads the teacher's pieces and also matches
the teacher's hidden states and attention maps (an online teacher pass). Every student carries the
segment stage's word segmenter, so serving segments as training did.
"""

import logging
from collections.abc import Callable, Iterable
from dataclasses import fields, replace
from typing import Any

import numpy as np
import pandas as pd
import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from text_distill.distill.intermediate import IntermediateMatching
from text_distill.distill.losses import NO_LABEL
from text_distill.distill.soft_targets import check_soft_targets, check_transfer_targets, logits_for
from text_distill.distill.student import StudentClassifier
from text_distill.distill.students import build_student_model
from text_distill.distill.students.transformer import (
    SubwordSegmenter,
    TransformerClassifier,
    pruned_vocabulary,
)
from text_distill.distill.teacher import PretrainedEncoder, TeacherClassifier
from text_distill.distill.text import Segmenter
from text_distill.distill.train import TrainingConfig, train_student
from text_distill.distill.vocab import build_vocabulary, vector_matrix

logger = logging.getLogger(__name__)


def student_segmenter(params: dict[str, Any], word_segmenter: dict[str, str]) -> Segmenter:
    """How the student reads raw text: its unit (the ``ngram`` architecture reads n-gram features)
    over the segment stage's word segmenter, so training and serving segment alike."""
    options = params.get("ngram") or {}
    return Segmenter(
        "ngram" if params["architecture"] == "ngram" else params["unit"],
        word_segmenter["segmenter"],
        tuple(options.get("char_ngrams", (1, 3))),
        tuple(options.get("word_ngrams", (1, 2))),
    )


def _ngram_vocabulary(
    train_tokens: Iterable[list[str]], options: dict[str, Any], seed: int
) -> tuple[list[str], np.ndarray]:
    """The train split's n-gram features seen ``min_freq`` times, random initial rows."""
    vocabulary = build_vocabulary(train_tokens, int(options["min_freq"]), options.get("max_size"))
    embeddings, _ = vector_matrix(vocabulary, {}, int(options["embedding_dim"]), seed)
    logger.info("n-gram student: %d features (min_freq %s)", len(vocabulary) - 2, options["min_freq"])
    return vocabulary, embeddings


# unit -> (train tokens, word (vocabulary, vectors), char (vocabulary, vectors), options, seed) -> both
UNIT_VOCABULARIES: dict[str, Callable[..., tuple[list[str], np.ndarray]]] = {
    "word": lambda tokens, word, char, options, seed: word,
    "char": lambda tokens, word, char, options, seed: char,
    "ngram": lambda tokens, word, char, options, seed: _ngram_vocabulary(tokens, options, seed),
}
MODEL_OPTIONS = {"ngram": ("hidden_size", "dropout")}  # the rest of ``student.ngram`` shapes the features


def _splits(examples: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    return examples[examples["split"] == "train"], examples[examples["split"] == "dev"]


def transfer_tokens(transfer_targets: pd.DataFrame, segmenter: Segmenter) -> list[list[str]]:
    """What a word, char or n-gram student reads of the augmented and unlabelled rows (a masked
    word, ``<unk>``, stays one token at the char level)."""
    return [segmenter.from_words(words) for words in transfer_targets["words"]]


def _embedding_student(
    segmented: pd.DataFrame,
    examples: pd.DataFrame,
    vectors: tuple[tuple[list[str], np.ndarray], tuple[list[str], np.ndarray]],
    segmenter: Segmenter,
    label_names: list[str],
    params: dict[str, Any],
) -> tuple[StudentClassifier, pd.Series, pd.Series]:
    """A BiLSTM, TextCNN or bag of n-grams over its unit's tokens (``vectors``: the word and the
    character vocabulary with their vectors), and the train and dev token lists."""
    architecture = params["architecture"]
    tokens = examples[["example_id", "split"]].merge(
        segmented[["example_id", "words"]], on="example_id", how="left", validate="one_to_one"
    )
    if tokens["words"].isna().any():
        raise ValueError(
            f"{int(tokens['words'].isna().sum())} examples have no segmentation: rerun "
            "`kedro run --pipeline segment`"
        )
    tokens["tokens"] = tokens["words"].map(segmenter.from_words)
    train, dev = _splits(tokens)
    options = params.get(architecture) or {}
    vocabulary, embeddings = UNIT_VOCABULARIES[segmenter.unit](
        train["tokens"], *vectors, options, int(params["seed"])
    )
    kept = MODEL_OPTIONS.get(architecture)
    model = build_student_model(
        architecture,
        len(vocabulary),
        len(label_names),
        embeddings,
        bool(params["freeze_embeddings"]),
        {k: v for k, v in options.items() if kept is None or k in kept},
    )
    max_tokens = options.get("max_features", params["max_tokens"])
    student = StudentClassifier(model, vocabulary, segmenter.unit, label_names, max_tokens, segmenter)
    return student, train["tokens"], dev["tokens"]


def _transformer_student(
    encoder: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    text_prefix: str,
    max_length: int,
    head: torch.nn.Linear | None,
    examples: pd.DataFrame,
    label_names: list[str],
    options: dict[str, Any],
    transfer_texts: list[str] = (),
) -> tuple[StudentClassifier, list[list[str]], list[list[str]], list[int], list[list[str]]]:
    """The first layers of ``encoder`` over the pieces the train split (and the transfer rows)
    use; the train and dev piece lists, each student piece's teacher id, the transfer rows' pieces."""
    segmenter = SubwordSegmenter(tokenizer, text_prefix, max_length)
    train, dev = _splits(examples)
    train_tokens = segmenter.segment_many(train["text"].tolist())
    dev_tokens = segmenter.segment_many(dev["text"].tolist())
    extra_tokens = segmenter.segment_many(list(transfer_texts))
    vocabulary, teacher_ids = pruned_vocabulary(tokenizer, [*train_tokens, *extra_tokens])
    model = TransformerClassifier.from_teacher(
        encoder,
        teacher_ids,
        len(label_names),
        int(options["num_layers"]),
        float(options["dropout"]),
        options.get("hidden_size"),
        head,
    )
    logger.info(
        "Transformer student: %d of the teacher's %d layers, %d of its %d pieces",
        model.encoder.config.num_hidden_layers,
        encoder.config.num_hidden_layers,
        len(vocabulary),
        len(tokenizer),
    )
    student = StudentClassifier(model, vocabulary, "subword", label_names, max_length, segmenter)
    return student, train_tokens, dev_tokens, teacher_ids, extra_tokens


def _fit(
    name: str,
    student: StudentClassifier,
    examples: pd.DataFrame,
    train_tokens: list[list[str]] | pd.Series,
    dev_tokens: list[list[str]] | pd.Series,
    soft_targets: pd.DataFrame | None,
    matcher: IntermediateMatching | None,
    params: dict[str, Any],
    transfer: tuple[list[list[str]], np.ndarray] | None = None,
) -> tuple[StudentClassifier, dict[str, Any]]:
    """Train on the train split (hard labels and, with ``soft_targets``, the teacher's logits) plus
    the ``transfer`` rows (tokens and teacher logits, no hard label)."""
    train, dev = _splits(examples)
    train_tokens, labels = list(train_tokens), train["label_id"].to_numpy()
    teacher_logits = None if soft_targets is None else logits_for(soft_targets, train["example_id"])
    if transfer is not None and len(transfer[0]):
        train_tokens = [*train_tokens, *transfer[0]]
        labels = np.concatenate([labels, np.full(len(transfer[0]), NO_LABEL)])
        teacher_logits = np.concatenate([teacher_logits, np.asarray(transfer[1], dtype=np.float32)])
    config = TrainingConfig(**{f.name: params[f.name] for f in fields(TrainingConfig) if f.name in params})
    if params.get("checkpoint_dir"):
        config = replace(config, checkpoint=f"{params['checkpoint_dir']}/{name}.pt")
    if soft_targets is None:
        config = replace(config, alpha=1.0)
    history = train_student(
        student,
        [student.ids(tokens) for tokens in train_tokens],
        labels,
        teacher_logits,
        [student.ids(tokens) for tokens in dev_tokens],
        dev["label_id"].to_numpy(),
        config,
        matcher,
    )
    best = max(history, key=lambda record: record["dev_macro_f1"])
    log = {
        "train_rows": len(train),
        "transfer_rows": len(train_tokens) - len(train),
        "dev_rows": len(dev),
        "best_epoch": best["epoch"],
        "history": history,
    }
    return student, log


def _seeded(params: dict[str, Any]) -> None:
    torch.set_num_threads(int(params["threads"]))
    torch.manual_seed(int(params["seed"]))


def _replicated(
    train: Callable[[dict[str, Any]], tuple[StudentClassifier, dict[str, Any]]], params: dict[str, Any]
) -> tuple[StudentClassifier, dict[str, Any], list[StudentClassifier]]:
    """The model at ``params.seed``, its log, and the same model at each of ``params.replica_seeds``
    (for the mean and spread of test scores across seeds; none when the list is empty)."""
    student, log = train(params)
    replicas = []
    for seed in params.get("replica_seeds") or []:
        logger.info("Seed replica %s", seed)
        replicas.append(train({**params, "seed": int(seed), "checkpoint_dir": None})[0])
    return (
        student,
        {**log, "seed": params["seed"], "replica_seeds": params.get("replica_seeds") or []},
        replicas,
    )


def _matcher(
    teacher: TeacherClassifier, student: StudentClassifier, teacher_ids: list[int], options: dict[str, Any]
) -> IntermediateMatching | None:
    if not (options["hidden_weight"] or options["attention_weight"]):
        return None  # logits only
    return IntermediateMatching(
        teacher.encoder,
        teacher_ids,
        student.model.encoder.config.hidden_size,
        student.model.encoder.config.num_hidden_layers,
        options.get("layer_map"),
        options["hidden_weight"],
        options["attention_weight"],
        options["hidden_loss"],
    )


def train_distilled_student(
    segmented: pd.DataFrame,
    examples: pd.DataFrame,
    soft_targets: pd.DataFrame,
    transfer_targets: pd.DataFrame,
    teacher_fingerprint: dict[str, Any],
    teacher: TeacherClassifier,
    word_vocabulary: list[str],
    word_embeddings: np.ndarray,
    char_vocabulary: list[str],
    char_embeddings: np.ndarray,
    word_segmenter: dict[str, str],
    label_names: list[str],
    params: dict[str, Any],
) -> tuple[StudentClassifier, dict[str, Any], list[StudentClassifier]]:
    """``alpha * CE(hard) + (1 - alpha) * KD`` against the cached logits of the current teacher
    (plus intermediate matching for a transformer student: the only use of ``teacher`` here),
    over the train split and the transfer set's augmented and unlabelled rows (teacher logits only).
    Also returns the same student trained at each ``replica_seeds``."""
    check_soft_targets(soft_targets, examples, teacher_fingerprint["fingerprint"])
    check_transfer_targets(transfer_targets, teacher_fingerprint["fingerprint"])
    vectors = ((word_vocabulary, word_embeddings), (char_vocabulary, char_embeddings))
    transfer_logits = np.stack(transfer_targets["logits"].to_numpy()) if len(transfer_targets) else None

    def train(run: dict[str, Any]) -> tuple[StudentClassifier, dict[str, Any]]:
        _seeded(run)
        if run["architecture"] != "transformer":
            segmenter = student_segmenter(run, word_segmenter)
            student, train_tokens, dev_tokens = _embedding_student(
                segmented, examples, vectors, segmenter, label_names, run
            )
            transfer = (transfer_tokens(transfer_targets, segmenter), transfer_logits)
            return _fit(
                "student", student, examples, train_tokens, dev_tokens, soft_targets, None, run, transfer
            )
        student, train_tokens, dev_tokens, teacher_ids, extra_tokens = _transformer_student(
            teacher.encoder,
            teacher.tokenizer,
            teacher.text_prefix,
            teacher.max_length,
            teacher.head,
            examples,
            label_names,
            run["transformer"],
            transfer_targets["teacher_text"].tolist(),
        )
        matcher = _matcher(teacher, student, teacher_ids, run["transformer"])
        transfer = (extra_tokens, transfer_logits)
        return _fit(
            "student", student, examples, train_tokens, dev_tokens, soft_targets, matcher, run, transfer
        )

    return _replicated(train, params)


def train_student_alone(
    segmented: pd.DataFrame,
    examples: pd.DataFrame,
    teacher_base: PretrainedEncoder,
    word_vocabulary: list[str],
    word_embeddings: np.ndarray,
    char_vocabulary: list[str],
    char_embeddings: np.ndarray,
    word_segmenter: dict[str, str],
    label_names: list[str],
    params: dict[str, Any],
    teacher_params: dict[str, Any],
) -> tuple[StudentClassifier, dict[str, Any], list[StudentClassifier]]:
    """The same student, same data and schedule, on hard labels alone: the baseline. A transformer
    student starts from the pretrained encoder's layers (never the fine-tuned teacher's).
    Also returns the baseline trained at each ``replica_seeds``."""
    vectors = ((word_vocabulary, word_embeddings), (char_vocabulary, char_embeddings))

    def train(run: dict[str, Any]) -> tuple[StudentClassifier, dict[str, Any]]:
        _seeded(run)
        if run["architecture"] != "transformer":
            student, train_tokens, dev_tokens = _embedding_student(
                segmented, examples, vectors, student_segmenter(run, word_segmenter), label_names, run
            )
        else:
            student, train_tokens, dev_tokens, _, _ = _transformer_student(
                teacher_base.encoder,
                teacher_base.tokenizer,
                teacher_params["text_prefix"],
                teacher_params["max_length"],
                None,
                examples,
                label_names,
                run["transformer"],
            )
        return _fit("student_alone", student, examples, train_tokens, dev_tokens, None, None, run)

    return _replicated(train, params)
