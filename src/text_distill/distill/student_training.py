"""Students from a recipe: build the chosen architecture over its unit's vocabulary, train it on the
train split (hard labels and, when distilling, the cached teacher logits plus the texts without a
label: the unlabelled split and the transfer rows), select on dev, at the recipe's seed. The test
split is never read here.

``recipe.model.architecture`` names a student kind (``students.STUDENT_KINDS``), whose builder makes
the model: ``embedding_student`` here for the kinds with an embedding table over the segmenter's
words (``ngram`` reads n-gram features of them; ``bilstm`` and ``textcnn`` read ``recipe.model.unit``,
word with word2vec vectors or char); the ``transformer`` kind's own, cut from a teacher encoder.
Every student carries the word segmenter, so serving segments as training did.
"""

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from text_distill.distill.intermediate import IntermediateMatching
from text_distill.distill.losses import NO_LABEL
from text_distill.distill.recipe import ModelSpec, StudentRecipe
from text_distill.distill.soft_targets import logits_for
from text_distill.distill.splits import UNLABELLED
from text_distill.distill.student import StudentClassifier
from text_distill.distill.students import STUDENT_KINDS
from text_distill.distill.teacher import TeacherClassifier
from text_distill.distill.text import Segmenter
from text_distill.distill.train import train_student

logger = logging.getLogger(__name__)

Vectors = tuple[list[str], np.ndarray]  # a vocabulary and its rows of vectors


@dataclass
class StudentData:
    """What every student reads: the labelled examples (train and dev used), their words, the
    word and character vectors, the segmenter's name and the label names."""

    examples: pd.DataFrame
    segmented: pd.DataFrame
    word_vectors: Vectors
    char_vectors: Vectors
    word_segmenter: str
    label_names: list[str]

    @classmethod
    def of(
        cls,
        examples: pd.DataFrame,
        segmented: pd.DataFrame,
        vectors: tuple[list[str], np.ndarray, list[str], np.ndarray],
        word_segmenter: dict[str, str],
        label_names: list[str],
    ) -> "StudentData":
        """From the catalog's datasets: ``vectors`` is the word vocabulary and embeddings, then the
        character ones; ``word_segmenter`` the segment stage's record."""
        words, word_rows, chars, char_rows = vectors
        return cls(
            examples,
            segmented,
            (words, word_rows),
            (chars, char_rows),
            word_segmenter["segmenter"],
            label_names,
        )

    def split(self, frame: pd.DataFrame, name: str) -> pd.DataFrame:
        return frame[frame["split"] == name]


@dataclass
class Transfer:
    """Rows the teacher labelled but no person did: what the student reads of each, their logits and
    where each comes from (``augmented`` copies of train, or ``unlabelled`` corpus texts)."""

    words: list[list[str]]
    texts: list[str]
    logits: np.ndarray | None
    sources: list[str] = dataclasses.field(default_factory=list)

    @classmethod
    def of(cls, transfer_targets: pd.DataFrame) -> "Transfer":
        logits = np.stack(transfer_targets["logits"].to_numpy()) if len(transfer_targets) else None
        words, texts = list(transfer_targets["words"]), transfer_targets["teacher_text"].tolist()
        return cls(words, texts, logits, transfer_targets["source"].tolist())

    def written(self) -> list[list[str]]:
        """The words of the texts a person wrote (not the augmented copies): what a distilled
        student's features are counted over, beside the train and unlabelled splits."""
        return [
            words for words, source in zip(self.words, self.sources, strict=True) if source != "augmented"
        ]


@dataclass
class EncoderSource:
    """What a transformer student is cut from: an encoder with its tokenizer and input settings, the
    head to start from, and the teacher whose hidden states it matches (None: logits only)."""

    encoder: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    text_prefix: str
    max_length: int
    head: torch.nn.Linear | None = None
    teacher: TeacherClassifier | None = None

    @classmethod
    def of_teacher(cls, teacher: TeacherClassifier) -> "EncoderSource":
        return cls(
            teacher.encoder, teacher.tokenizer, teacher.text_prefix, teacher.max_length, teacher.head, teacher
        )


# unit -> the data's pretrained vocabulary and vectors: what an embedding student starts from, unless
# its kind counts a vocabulary of its own (``StudentKind.vocabulary``)
UNIT_VECTORS: dict[str, Callable[[StudentData], Vectors]] = {
    "word": lambda data: data.word_vectors,
    "char": lambda data: data.char_vectors,
}


def student_segmenter(model: ModelSpec, word_segmenter: str) -> Segmenter:
    """How the student reads raw text: its kind's unit and settings (``StudentKind.reads``) over the
    segment stage's word segmenter, so training and serving segment alike."""
    return Segmenter(**STUDENT_KINDS[model.architecture].reads(model), words=word_segmenter)


@dataclass
class Built:
    """A new student, the token lists of train and dev, the transfer rows' tokens and logits, and
    (when distilling) the unlabelled split's tokens, whose logits are in the soft targets."""

    student: StudentClassifier
    train_tokens: list[list[str]]
    dev_tokens: list[list[str]]
    transfer: tuple[list[list[str]], np.ndarray | None]
    matcher: IntermediateMatching | None = None
    unlabelled_tokens: list[list[str]] = dataclasses.field(default_factory=list)


def embedding_student(
    data: StudentData,
    recipe: StudentRecipe,
    transfer: Transfer | None = None,
    source: EncoderSource | None = None,
) -> Built:
    """The kind's network (a BiLSTM, TextCNN, bag of n-grams...) over the tokens its kind reads, its
    embedding table starting from the unit's vectors or the kind's own vocabulary."""
    model_spec = recipe.model
    kind = STUDENT_KINDS[model_spec.architecture]
    segmenter = student_segmenter(model_spec, data.word_segmenter)
    tokens = data.examples[["example_id", "split"]].merge(
        data.segmented[["example_id", "words"]], on="example_id", how="left", validate="one_to_one"
    )
    if tokens["words"].isna().any():
        raise ValueError(
            f"{int(tokens['words'].isna().sum())} examples have no segmentation: rerun "
            "`kedro run --pipeline segment`"
        )
    tokens["tokens"] = tokens["words"].map(segmenter.from_words)
    train, dev = (list(data.split(tokens, name)["tokens"]) for name in ("train", "dev"))
    distilling = transfer is not None
    unlabelled = list(data.split(tokens, UNLABELLED)["tokens"]) if distilling else []
    transfer_tokens = [segmenter.from_words(words) for words in transfer.words] if distilling else []
    # a distilled student learns every text's features from the teacher, so it counts them all
    counted = [*train, *unlabelled, *map(segmenter.from_words, transfer.written())] if distilling else train
    if kind.vocabulary is None:
        vocabulary, embeddings = UNIT_VECTORS[segmenter.unit](data)
    else:
        vocabulary, embeddings = kind.vocabulary(counted, data, model_spec, recipe.runtime.seed)
    options = model_spec.options
    model = kind.network_class()(
        vocab_size=len(vocabulary),
        num_labels=len(data.label_names),
        embedding_dim=embeddings.shape[1],
        embeddings=embeddings,
        freeze_embeddings=model_spec.freeze_embeddings,
        **{name: getattr(options, name) for name in kind.network_options},
    )
    read = kind.tokens_read(model_spec)
    student = StudentClassifier(model, vocabulary, segmenter.unit, data.label_names, read, segmenter)
    logits = transfer.logits if distilling else None
    return Built(student, train, dev, (transfer_tokens, logits), unlabelled_tokens=unlabelled)


def fit(
    name: str, built: Built, data: StudentData, soft_targets: pd.DataFrame | None, recipe: StudentRecipe
) -> tuple[StudentClassifier, dict[str, Any]]:
    """Train on the train split (hard labels and, with ``soft_targets``, the teacher's logits) plus,
    with ``soft_targets``, the unlabelled split and the transfer rows (teacher logits, no hard label);
    keep the epoch best on dev macro-F1."""
    train, dev = data.split(data.examples, "train"), data.split(data.examples, "dev")
    tokens, labels = list(built.train_tokens), train["label_id"].to_numpy()
    teacher_logits = None if soft_targets is None else logits_for(soft_targets, train["example_id"])
    unlabelled_rows = 0
    if soft_targets is not None:
        unlabelled_ids = data.split(data.examples, UNLABELLED)["example_id"]
        extra_tokens, extra_logits = built.transfer
        unlabelled_rows = len(built.unlabelled_tokens)
        if unlabelled_rows:
            extra_tokens = [*built.unlabelled_tokens, *extra_tokens]
            found = logits_for(soft_targets, unlabelled_ids)
            extra_logits = found if extra_logits is None else np.concatenate([found, extra_logits])
        if len(extra_tokens):
            tokens = [*tokens, *extra_tokens]
            labels = np.concatenate([labels, np.full(len(extra_tokens), NO_LABEL)])
            teacher_logits = np.concatenate([teacher_logits, np.asarray(extra_logits, dtype=np.float32)])
    checkpoint_dir = recipe.runtime.checkpoint_dir
    config = recipe.training_config(
        checkpoint=f"{checkpoint_dir}/{name}.pt" if checkpoint_dir else None,
        hard_labels_only=soft_targets is None,
    )
    student = built.student
    history = train_student(
        student,
        [student.ids(each) for each in tokens],
        labels,
        teacher_logits,
        [student.ids(each) for each in built.dev_tokens],
        dev["label_id"].to_numpy(),
        config,
        built.matcher,
    )
    best = max(history, key=lambda record: record["dev_macro_f1"])
    log = {
        "train_rows": len(train),  # labelled: the hard-label term's
        "unlabelled_rows": unlabelled_rows,  # the unlabelled split's texts, in the KD term only
        "transfer_rows": len(tokens) - len(train) - unlabelled_rows,  # augmented and corpus texts
        "dev_rows": len(dev),
        "best_epoch": best["epoch"],
        "history": history,
    }
    return student, log


def seeded(
    train: Callable[[StudentRecipe], tuple[StudentClassifier, dict[str, Any]]], recipe: StudentRecipe
) -> tuple[StudentClassifier, dict[str, Any]]:
    """The model at the recipe's seed and its log, which names the seed and the recipe without its
    runtime (seed variants of one recipe log the same ``recipe``; ``evaluation.across_seeds`` checks)."""
    torch.set_num_threads(recipe.runtime.threads)
    torch.manual_seed(recipe.runtime.seed)
    student, log = train(recipe)
    trained = {key: value for key, value in recipe.as_params().items() if key != "runtime"}
    return student, {**log, "seed": recipe.runtime.seed, "recipe": trained}


def build(
    data: StudentData, recipe: StudentRecipe, transfer: Transfer | None, source: EncoderSource | None
) -> Built:
    """A new student of the recipe's kind, by the kind's builder (``StudentKind.build``)."""
    return STUDENT_KINDS[recipe.model.architecture].builder()(data, recipe, transfer, source)


def train_distilled(
    data: StudentData,
    soft_targets: pd.DataFrame,
    transfer: Transfer,
    teacher: TeacherClassifier,
    recipe: StudentRecipe,
) -> tuple[StudentClassifier, dict[str, Any]]:
    """``alpha * CE(hard) + (1 - alpha) * KD`` against the cached teacher logits over the train split
    and the transfer rows (plus intermediate matching for a transformer student cut from
    ``teacher``: its only use here), at the recipe's seed."""
    source = None if teacher is None else EncoderSource.of_teacher(teacher)

    def train(run: StudentRecipe) -> tuple[StudentClassifier, dict[str, Any]]:
        built = build(data, run, transfer, source)
        return fit("student", built, data, soft_targets, run)

    return seeded(train, recipe)


def train_alone(
    data: StudentData, source: EncoderSource | None, recipe: StudentRecipe
) -> tuple[StudentClassifier, dict[str, Any]]:
    """The same student, same data and schedule, on hard labels alone: the baseline. A transformer
    student is cut from ``source``, the pretrained encoder (never the fine-tuned teacher)."""

    def train(run: StudentRecipe) -> tuple[StudentClassifier, dict[str, Any]]:
        return fit("student_alone", build(data, run, None, source), data, None, run)

    return seeded(train, recipe)
