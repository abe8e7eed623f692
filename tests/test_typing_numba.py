"""mypy checks the numba kernel's call argument by argument (numba types ``@njit`` functions as
``Dispatcher[signature]``): a call it cannot check, such as one through ``*`` of a tuple whose
length mypy does not know, was reported as an error by ``make lint``. Slow (mypy starts cold,
~20 s): CI runs it."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
KERNEL = REPO / "src" / "gardefou" / "banks" / "_index_numba.py"


@pytest.mark.slow
def test_the_numba_kernel_type_checks(tmp_path: Path) -> None:
    api = pytest.importorskip("mypy.api", reason="mypy is in the dev extra")
    pytest.importorskip("numba", reason="numba is in the fast extra")
    out, err, status = api.run(
        [str(KERNEL), "--config-file", str(REPO / "pyproject.toml"), "--cache-dir", str(tmp_path)]
    )
    assert status == 0, out + err
