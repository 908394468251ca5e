"""The model library under the pipelines: plain Python, no Kedro. One package per kind of thing,
each saying in its docstring what it holds and which other packages it may import (a test reads
those lines and checks every import, the lazy ones inside functions too). From the bottom up:

- ``config``: the strict base of every stage's typed settings and the one-line error they give.
- ``runtimes``: where heavy work runs (this process or Ray), and Ray's settings.
- ``data``: texts, splits, vocabularies, augmentation, the transfer set and the soft-target store.
- ``objectives``: losses, temperature schedules, adversarial steps, intermediate matching.
- ``models``: the teacher, the baselines, the n-gram index, the student interface and the
  registry of student kinds.
- ``training``: typed recipes, the student's loop and trainers, the teacher's fine-tune.
- ``students``: one module per student kind (network, options, builder, registration).
- ``labelling``: the teacher labelling texts into the soft-target store, here or on Ray.
- ``evaluation``: metrics, speed, scores, the report, plots, the learning curve.
- ``export``: ONNX export and what the served model answers.
- ``tuning``: sweeps and searches over student recipes, on Ray Tune or tasks.

A new loss goes in ``objectives``, a student kind in ``students`` (one module that registers
itself), a metric in ``evaluation``, an engine beside what it runs.
"""
