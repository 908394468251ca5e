"""Objectives: what a student minimises, as functions of tensors: the KD and hard-label losses,
temperature schedules, adversarial steps and intermediate-layer matching. They know no model
class (a student that exposes hidden states is a protocol here).

May import: data.
"""
