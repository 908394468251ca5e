"""Reference baselines: TF-IDF n-grams + a linear SVM, fitted on train, chosen on dev."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
