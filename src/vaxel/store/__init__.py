"""Persistence (P7): SQLAlchemy models and Alembic migrations on SQLite or PostgreSQL.

Only `services/` uses this package; everything above it goes through services.
"""

from vaxel.store.database import Store
from vaxel.store.models import (
    READ_DIRECTORY_VERSION,
    Base,
    Company,
    DirectoryVersion,
    Registration,
    User,
)

__all__ = [
    "READ_DIRECTORY_VERSION",
    "Base",
    "Company",
    "DirectoryVersion",
    "Registration",
    "Store",
    "User",
]
