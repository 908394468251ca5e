"""Models: the teacher (encoder, head, packaged e5 checkpoint reader, precision), the TF-IDF
baselines and the teacher ensemble they join, the n-gram index, the student interface
(``StudentClassifier``: load, save, predict) and the registry of student kinds, whose modules live
in ``students`` and are loaded by name.

May import: data, objectives.
"""
