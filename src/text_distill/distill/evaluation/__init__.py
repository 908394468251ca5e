"""Evaluation: metrics, speed probes, scores of every model on a split, the report, plots and the
learning curve.

May import: data, objectives, models.
"""
