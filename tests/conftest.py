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


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture
def tmp_db(tmp_path: Path):
    from gardefou.store import connect

    db = connect(tmp_path / "test.db")
    yield db
    db.close()
