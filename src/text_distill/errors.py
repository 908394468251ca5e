"""Errors about the user's data or set-up: reported as one clear message, never a stack trace."""


class TextDistillError(Exception):
    """Raised for bad input or configuration; the message says what to change."""
