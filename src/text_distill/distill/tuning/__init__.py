"""Tuning: a student retrained across temperatures or recipes (``trials``, ``studies``), and the
sweep engines that run the trials here, on Ray tasks or on Ray Tune.

May import: config, runtimes, data, objectives, models, training, students, evaluation.
"""
