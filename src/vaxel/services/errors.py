"""Service errors carry a one-line message fit to show the person who caused them."""

from __future__ import annotations


class ServiceError(Exception):
    """Base class; `str(error)` is the user-facing message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Invalid(ServiceError):
    """The input is malformed (bad domain, extension, password ...)."""


class NotFound(ServiceError):
    """A referenced thing (company, user) does not exist."""


class Conflict(ServiceError):
    """The change clashes with existing data (a duplicate domain or extension)."""


class Stale(ServiceError):
    """The change was made against a version that has since changed (another admin's edit)."""
