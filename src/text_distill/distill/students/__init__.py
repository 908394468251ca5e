"""Student architectures, chosen by name in ``parameters_student.yml`` (``student.model.architecture``).

Each kind is one module of this package (network, typed options, builder, registration) and one
entry of the ``models.student_kinds.STUDENT_KINDS`` registry; a new kind is a new module that calls
``register_student`` (and, for a built-in kind, its name in ``student_kinds.BUILT_IN``). A kind's
builder reads the training recipe and data, so this package sits above ``training``.

May import: data, objectives, models, training.
"""

from text_distill.distill.models.student_kinds import STUDENT_KINDS, StudentKind, register_student

__all__ = ["STUDENT_KINDS", "StudentKind", "register_student"]
