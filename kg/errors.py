"""Errors the user sees: each names the file (and line where it helps) and what is wrong."""

from __future__ import annotations

from pathlib import Path


class KgError(Exception):
    """An error reported to the user as one line, without a traceback."""


class InputError(KgError):
    """Bad input: a file that cannot be read or does not follow its format."""

    def __init__(self, path: str | Path, message: str, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.message = message
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")


class UsageError(KgError):
    """A command was called with arguments it cannot act on (missing store, unknown query)."""
