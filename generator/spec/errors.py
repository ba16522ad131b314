"""The one error type bad input raises, and where in which file it points."""
from __future__ import annotations

from dataclasses import dataclass

from ..printable import printable


@dataclass(frozen=True)
class Location:
    """A place in a spec file: 1-based line and column."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if not self.line:
            return self.file
        return f"{self.file}:{self.line}:{self.column}"


class SpecError(Exception):
    """Bad input: rendered as one line `file:line:col: field.path: message`."""

    def __init__(self, location: Location, field: str, message: str):
        super().__init__(message)
        self.location = location
        self.field = field
        self.message = message

    def __str__(self) -> str:
        where = str(self.location)
        text = f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        # One line, whatever a value quoted in the message holds, and no character hidden in it.
        return printable(text)


class FieldError(ValueError):
    """A bad value found while building the model; `path` is relative to the document root.

    Raised deep inside compile-free model code that knows the field but not the file; the model builder
    turns it into a SpecError with the field's line and column.
    """

    def __init__(self, path: tuple, message: str):
        super().__init__(message)
        self.path = tuple(path)
        self.message = message
