"""Data: text normalisation and segmenters, corpus reading and validation, splits and label
budgets, vocabularies, augmentation, the transfer set, soft-target tables and the content-addressed
soft-target store.

May import: nothing of the library.
"""
