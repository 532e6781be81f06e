"""Errors raised by the persistence layer.

Every failure a user can run into is a :class:`StoreError` whose message says what went wrong
and what to do about it, so the studio can show it as is.
"""

from __future__ import annotations


class StoreError(Exception):
    """A persistence failure with a message a person can act on."""


class ProjectNameError(StoreError):
    """A project name is invalid or already taken."""


class NotFound(StoreError):
    """A project, generation, asset or artifact does not exist."""


class ProjectNotEmpty(StoreError):
    """Deleting a project was refused because it still has generations."""

    def __init__(self, message: str, count: int) -> None:
        super().__init__(message)
        self.count = count
