"""The builder of every student kind with an embedding table over the segmenter's words (``ngram``,
``bilstm``, ``textcnn``: ``StudentKind.build``'s default): its vocabulary and initial vectors, its
network, and the tokens of train, dev, the unlabelled split and the transfer rows."""

from __future__ import annotations

from collections.abc import Callable

from text_distill.distill.data.splits import UNLABELLED
from text_distill.distill.data.text import Segmenter
from text_distill.distill.models.student import StudentClassifier
from text_distill.distill.models.student_kinds import STUDENT_KINDS
from text_distill.distill.training.recipe import ModelSpec, StudentRecipe
from text_distill.distill.training.student_data import Built, EncoderSource, StudentData, Transfer, Vectors

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
