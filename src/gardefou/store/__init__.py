"""Storage: SQLite by default, PostgreSQL by URL, one schema and one set of migrations."""

from gardefou.store.db import Database, connect, default_db_path
from gardefou.store.media import MediaRepository

__all__ = ["Database", "MediaRepository", "connect", "default_db_path"]
