"""One error root. Every error can explain itself and say what to do."""

from __future__ import annotations


class DepchainError(Exception):
    """Root of every error depchain raises on purpose."""

    hint: str = ""

    def diagnostics(self) -> str:
        text = str(self)
        return f"{text}\n  hint: {self.hint}" if self.hint else text


class InputFileError(DepchainError):
    """One input file cannot be read; the scan records it and goes on."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


class InvalidValue(DepchainError, ValueError):
    """A value read from an input cannot be what its place says (a package name that is
    only slashes): the file it came from is reported in one line, the scan goes on."""


class UsageError(DepchainError):
    """The command line asks for something impossible (exit code 2)."""


class OutputError(DepchainError):
    """An output file could not be written; nothing half-written was left."""
