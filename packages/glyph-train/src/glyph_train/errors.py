"""Errors a user can cause and fix (printed by the CLI as one line, without a traceback)."""


class TrainingInputError(ValueError):
    """Inputs that cannot train what the config asks (too few patterns, a checkpoint of another run, ...)."""
