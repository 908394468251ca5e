"""Training: the typed student recipe, what a student trains from (``student_data``), the student's
loop and the distilled and alone trainers, and the teacher's fine-tune on transformers ``Trainer``
(``teacher_trainer``), in this process or on Ray Train workers (``teacher_on_ray``).

May import: config, runtimes, data, objectives, models.
"""
