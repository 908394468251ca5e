"""Student architectures, chosen by name in ``parameters_student.yml`` (``student.model.architecture``).

Each kind is one module of this package (network, typed options, registration) and one entry of the
``registry.STUDENT_KINDS`` registry; a new kind is a new module that calls ``register_student`` and,
for a built-in kind, its name in ``registry.BUILT_IN``.
"""

from text_distill.distill.students.registry import STUDENT_KINDS, StudentKind, register_student

__all__ = ["STUDENT_KINDS", "StudentKind", "register_student"]
