"""Labelling: the teacher (and the ensemble of its members) scoring texts into the soft-target
store, with the engines that run the scoring here or on Ray Data.

May import: config, runtimes, data, objectives, models.
"""
