"""Reference baselines: what a practitioner builds in a minute, TF-IDF n-grams + a linear SVM
(scikit-learn).

Every evaluation shows them beside the teacher and the students: fitted on the same train split in
the same run, their regularisation ``C`` chosen on dev, and read from raw text end to end (the same
normalisation and, over words, the students' word segmenter), so the speed code times them alike.
Their decision scores serve as logits (argmax = the SVM's label).

``CrossFittedBaseline`` turns one into a teacher: on a text of its own train split it answers with
the model fitted on the other folds (an SVM nearly memorises its training rows, which would teach a
student the hard labels again), elsewhere with the model fitted on all of it; its scores are scaled
into logits on dev.
"""

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse
from scipy.special import log_softmax
from sklearn.base import clone
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import accuracy_score
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

from text_distill.distill.data.text import normalise_text, word_segmenter
from text_distill.errors import TextDistillError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BaselineSpec:
    """A TF-IDF vectoriser over ``analyzer`` n-grams (``char``: characters of the normalised text;
    ``word``: words of the word segmenter) feeding a one-vs-rest linear SVM."""

    analyzer: str
    ngram_range: tuple[int, int]
    min_df: int

    def vectorizer(self, segmenter: str) -> TfidfVectorizer:
        return TfidfVectorizer(
            ngram_range=tuple(self.ngram_range),
            min_df=self.min_df,
            dtype=np.float32,
            **ANALYZERS[self.analyzer](segmenter),
        )


# analyzer -> the vectoriser's reading of a normalised text
ANALYZERS = {
    "char": lambda segmenter: {"analyzer": "char"},
    "word": lambda segmenter: {
        "analyzer": "word",
        "tokenizer": word_segmenter(segmenter),
        "token_pattern": None,
        "lowercase": False,
    },
}


# The two a practitioner tries first (issue 11's measurement: char 1-3-grams were the strongest).
BASELINES: dict[str, BaselineSpec] = {
    "tfidf_char_svm": BaselineSpec("char", (1, 3), 3),
    "tfidf_word_svm": BaselineSpec("word", (1, 2), 2),
}


def baseline_spec(name: str) -> BaselineSpec:
    if name not in BASELINES:
        raise ValueError(f"baseline must be one of {sorted(BASELINES)}, got {name!r}")
    return BASELINES[name]


class BaselineClassifier:
    """Raw text -> normalise -> TF-IDF n-grams -> linear SVM decision scores."""

    def __init__(self, vectorizer: TfidfVectorizer, svm: LinearSVC, label_names: Sequence[str]) -> None:
        self.vectorizer = vectorizer
        self.svm = svm
        self.label_names = list(label_names)

    def encode(self, texts: Sequence[str]) -> scipy.sparse.csr_matrix:
        """Raw texts -> the SVM's input features: what serving would do."""
        return self.vectorizer.transform([normalise_text(text) for text in texts])

    def __call__(self, features: scipy.sparse.csr_matrix) -> np.ndarray:
        """One score per label: the SVM's decision function (two labels: -s/2 and s/2; a label
        absent from the train split scores below every other)."""
        scores = self.svm.decision_function(features).astype(np.float32)
        if scores.ndim == 1:
            scores = np.stack([-scores / 2, scores / 2], axis=1)
        if len(self.svm.classes_) == len(self.label_names):
            return scores
        logits = np.full((scores.shape[0], len(self.label_names)), scores.min(initial=0.0) - 1, np.float32)
        logits[:, self.svm.classes_] = scores
        return logits

    def predict_logits(self, texts: Sequence[str], batch_size: int = 256) -> np.ndarray:
        """Decision scores for raw texts, in input order."""
        outputs = [self(self.encode(texts[i : i + batch_size])) for i in range(0, len(texts), batch_size)]
        return np.concatenate(outputs) if outputs else np.zeros((0, len(self.label_names)), np.float32)

    def update_digest(self, digest: "hashlib._Hash") -> None:
        """Feed ``digest`` what decides this model's scores: the vectoriser's settings (a tokenizer by
        its name), vocabulary and idf weights, the SVM's weights, and the label names."""
        vectorizer = self.vectorizer
        settings = {
            key: getattr(value, "__qualname__", value) if callable(value) else value
            for key, value in vectorizer.get_params().items()
        }
        digest.update(repr(sorted(settings.items(), key=lambda item: item[0])).encode())
        digest.update(json.dumps(sorted(vectorizer.vocabulary_.items()), ensure_ascii=False).encode())
        for array in (vectorizer.idf_, self.svm.coef_, self.svm.intercept_, self.svm.classes_):
            digest.update(np.ascontiguousarray(array).tobytes())
        digest.update(json.dumps(self.label_names, ensure_ascii=False).encode())

    def parameter_count(self) -> int:
        return int(self.svm.coef_.size + self.svm.intercept_.size)


def _fit_svm(features: scipy.sparse.csr_matrix, labels: np.ndarray, c: float, seed: int) -> LinearSVC:
    return LinearSVC(C=c, random_state=seed).fit(features, labels)


def fit_baseline(
    spec: BaselineSpec,
    segmenter: str,
    train: tuple[Sequence[str], np.ndarray],
    dev: tuple[Sequence[str], np.ndarray],
    label_names: Sequence[str],
    c_grid: Sequence[float],
    seed: int = 0,
) -> tuple[BaselineClassifier, dict[str, Any]]:
    """Fit on ``train`` (texts, label ids) at each ``C`` of ``c_grid`` and keep the best on ``dev``
    accuracy (the first on ties); returns the model and the dev accuracy per ``C``."""
    vectorizer = spec.vectorizer(segmenter)
    train_features = vectorizer.fit_transform([normalise_text(text) for text in train[0]])
    dev_features = vectorizer.transform([normalise_text(text) for text in dev[0]])
    svms = {float(c): _fit_svm(train_features, train[1], float(c), seed) for c in c_grid}
    by_c = {c: float(accuracy_score(dev[1], svm.predict(dev_features))) for c, svm in svms.items()}
    best = svms[max(by_c, key=by_c.get)]  # the first of equals
    log = {
        "C": float(best.C),
        "dev_accuracy_by_C": {str(c): acc for c, acc in by_c.items()},
        "dev_accuracy": by_c[float(best.C)],
        "features": int(train_features.shape[1]),
        "train_rows": int(train_features.shape[0]),
    }
    logger.info("Baseline %s: %s", spec, log)
    return BaselineClassifier(vectorizer, best, label_names), log


def logit_scale(scores: np.ndarray, labels: np.ndarray, grid: Sequence[float] = ()) -> float:
    """The factor that turns decision scores into logits: the one of ``grid`` with the lowest
    negative log-likelihood of ``labels`` (temperature scaling, on dev)."""
    grid = grid or np.geomspace(0.5, 64, 29)
    nll = [-log_softmax(scale * scores, axis=1)[np.arange(len(labels)), labels].mean() for scale in grid]
    return float(grid[int(np.argmin(nll))])


class CrossFittedBaseline:
    """A baseline as a teacher: texts of its train split are scored by the fold model that did not
    see them, every other text by the model fitted on the whole split; scores times ``scale``."""

    def __init__(
        self,
        full: BaselineClassifier,
        folds: list[BaselineClassifier],
        fold_of_text: dict[str, int],
        scale: float,
    ) -> None:
        self.full = full
        self.folds = folds
        self.fold_of_text = fold_of_text
        self.scale = float(scale)
        self.label_names = full.label_names

    def fingerprint(self) -> str:
        """SHA-256 of every fitted model, the fold assignment and the scale: what decides its logits
        (not a pickle of the objects: scikit-learn keeps a memory address in a word vectoriser)."""
        digest = hashlib.sha256()
        for model in (self.full, *self.folds):
            model.update_digest(digest)
        digest.update(json.dumps(sorted(self.fold_of_text.items()), ensure_ascii=False).encode())
        digest.update(repr(self.scale).encode())
        return digest.hexdigest()

    def predict_logits(self, texts: Sequence[str], batch_size: int = 256, **_: object) -> np.ndarray:
        """Logits for raw texts (options of a transformer teacher's scoring, such as its precision,
        do not apply)."""
        texts = list(texts)
        logits = np.zeros((len(texts), len(self.label_names)), np.float32)
        which = np.array([self.fold_of_text.get(normalise_text(text), -1) for text in texts])
        for fold, model in [(-1, self.full), *enumerate(self.folds)]:
            index = np.flatnonzero(which == fold)
            if len(index):
                logits[index] = model.predict_logits([texts[i] for i in index], batch_size)
        return logits * self.scale


def cross_fit_baseline(
    full: BaselineClassifier,
    train: tuple[Sequence[str], np.ndarray],
    dev: tuple[Sequence[str], np.ndarray],
    folds: int,
    seed: int = 0,
) -> tuple[CrossFittedBaseline, dict[str, Any]]:
    """``folds`` models like ``full`` (its vectoriser settings and ``C``), each fitted without one
    fold of ``train`` (the split ``full`` was fitted on);
    the logit scale chosen on ``dev`` (the full model's scores). Returns the teacher and its
    out-of-fold train accuracy, dev accuracy and scale."""
    texts, labels = [normalise_text(text) for text in train[0]], np.asarray(train[1])
    rarest = int(np.bincount(labels).min(initial=len(labels)))
    if rarest < folds:  # a few labels (ingest.label_budget): as many folds as the rarest label fills
        if rarest < 2:
            raise TextDistillError(
                "an n-gram teacher is cross-fitted on 2 or more folds, but a label has 1 train row: "
                "raise ingest.label_budget or drop the member from variants.yml ngram_members"
            )
        logger.warning(
            "teacher.ngram_folds %d: the rarest label has %d train rows, so %d folds", folds, rarest, rarest
        )
        folds = rarest
    fold_of_text: dict[str, int] = {}
    models = []
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    out_of_fold = np.zeros(len(texts), dtype=np.int64)
    for fold, (fitted, held_out) in enumerate(splitter.split(texts, labels)):
        vectorizer = clone(full.vectorizer)
        svm = _fit_svm(vectorizer.fit_transform([texts[i] for i in fitted]), labels[fitted], full.svm.C, seed)
        model = BaselineClassifier(vectorizer, svm, full.label_names)
        out_of_fold[held_out] = model.predict_logits([texts[i] for i in held_out]).argmax(axis=1)
        fold_of_text.update((texts[i], fold) for i in held_out)
        models.append(model)
    dev_scores = full.predict_logits(list(dev[0]))
    scale = logit_scale(dev_scores, np.asarray(dev[1]))
    log = {
        "folds": folds,
        "C": float(full.svm.C),
        "out_of_fold_train_accuracy": float(accuracy_score(labels, out_of_fold)),
        "dev_accuracy": float(accuracy_score(dev[1], dev_scores.argmax(axis=1))),
        "logit_scale": scale,
    }
    logger.info("Cross-fitted baseline teacher: %s", log)
    return CrossFittedBaseline(full, models, fold_of_text, scale), log
