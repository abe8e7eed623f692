"""Shared test helpers.

Tests over the larger data sets in ../shared/ skip with a clear message when that folder is
absent (a user's fresh clone); CI always has it. Core fixtures live in tests/fixtures/.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures"
SHARED = Path(os.environ.get("GARDEFOU_SHARED", REPO.parent / "shared"))


def shared_path(*parts: str) -> Path:
    """Path under ../shared/, or skip the test saying what is missing."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} not found: this test needs the shared data set beside the clone "
                    "(set GARDEFOU_SHARED to its location)")  # fmt: skip
    return path


def loaded_signal(name: str, what: str, cls: type | None = None):
    """The registry's shared instance of signal ``name`` (its model loads once per session),
    with its model loaded; the test skips, naming ``what``, where the model cannot load."""
    from gardefou.signals import get_signal

    sig = get_signal(name)
    if cls is not None:
        assert isinstance(sig, cls)
    try:
        sig.model()
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"{what} not loadable here: {exc}")
    return sig


@pytest.fixture(scope="session", autouse=True)
def review_media_key():
    """One review-image key for the session (gardefou.store.media_crypto), so that tests over
    PostgreSQL never write a key file into the user's data folder."""
    import base64
    import secrets

    with pytest.MonkeyPatch.context() as mp:
        if not os.environ.get("GARDEFOU_REVIEW_MEDIA_KEY"):
            key = base64.b64encode(secrets.token_bytes(32)).decode()
            mp.setenv("GARDEFOU_REVIEW_MEDIA_KEY", key)
        yield


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


def _pg_schema_url(base: str, schema: str) -> str:
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}&application_name=gardefou-{schema}"


@pytest.fixture
def pg_url():
    """A PostgreSQL URL whose search_path is a fresh, empty schema (dropped afterwards), or skip
    when GARDEFOU_TEST_PG_URL is unset (start one with `eval "$(scripts/start-services.sh)"`)."""
    base = os.environ.get("GARDEFOU_TEST_PG_URL")
    if not base:
        pytest.skip(
            "GARDEFOU_TEST_PG_URL is not set: start PostgreSQL with "
            '`eval "$(scripts/start-services.sh)"` to run the PostgreSQL tests'
        )
    import uuid

    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    yield _pg_schema_url(base, schema)
    with psycopg.connect(base, autocommit=True) as admin:
        # connections a failed test left open would block the DROP: end them first
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
            (f"gardefou-{schema}",),
        )
        admin.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def redis_url():
    """GARDEFOU_TEST_REDIS_URL, or skip (start one with `eval "$(scripts/start-services.sh)"`)."""
    url = os.environ.get("GARDEFOU_TEST_REDIS_URL")
    if not url:
        pytest.skip(
            "GARDEFOU_TEST_REDIS_URL is not set: start Redis with "
            '`eval "$(scripts/start-services.sh)"` to run the Redis Streams tests'
        )
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh store URL on each backend: a SQLite file, then a PostgreSQL schema (skipped when
    GARDEFOU_TEST_PG_URL is unset)."""
    if request.param == "postgres":
        return str(request.getfixturevalue("pg_url"))
    return str(tmp_path / "test.db")


@pytest.fixture
def tmp_db(db_url: str):
    """A migrated store, run once on SQLite and once on PostgreSQL."""
    from gardefou.store import connect

    db = connect(db_url)
    yield db
    db.close()
