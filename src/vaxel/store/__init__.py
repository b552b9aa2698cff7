"""Persistence: SQLAlchemy models and Alembic migrations on SQLite or PostgreSQL.

Only `services/` uses this package; everything above it goes through services.
"""

from vaxel.store.database import Store
from vaxel.store.models import Base, Company, DirectoryVersion, Registration, User

__all__ = ["Base", "Company", "DirectoryVersion", "Registration", "Store", "User"]
