"""docs/configuration.md lists every GARDEFOU_* variable that src/ reads, and nothing else."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: a variable name, not the tail of an identifier (``_GARDEFOU_META`` is a Python constant)
NAME = re.compile(r"(?<![A-Za-z0-9_])GARDEFOU_[A-Z0-9_]+")
TEXT = (".py", ".yaml", ".yml", ".sql", ".html", ".js", ".json", ".txt")


def in_code(root: Path = ROOT / "src") -> dict[str, str]:
    """Every name in src/, with one file that mentions it."""
    found: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        if path.suffix in TEXT and path.is_file():
            for name in NAME.findall(path.read_text(encoding="utf-8", errors="replace")):
                found.setdefault(name, str(path.relative_to(root.parent)))
    return found


def documented(page: Path = ROOT / "docs" / "configuration.md") -> set[str]:
    """Names in the first column of the page's tables."""
    names = set()
    for line in page.read_text(encoding="utf-8").splitlines():
        m = re.match(r"\|\s*`([^`]+)`", line)
        if m:
            names.update(NAME.findall(m.group(1)))
    return names


def _covered(name: str, docs: set[str]) -> bool:
    # ``GARDEFOU_EXCHANGE_<NAME>_CREDENTIALS`` and ``GARDEFOU_GATEWAY_*`` leave a prefix ending
    # in "_": it is documented when a documented name starts with it
    return name in docs or (name.endswith("_") and any(d.startswith(name) for d in docs))


def test_every_variable_read_in_code_is_documented() -> None:
    docs = documented()
    missing = {n: where for n, where in in_code().items() if not _covered(n, docs)}
    assert not missing, "add these to docs/configuration.md (name, default, meaning): " + ", ".join(
        f"{n} (in {w})" for n, w in sorted(missing.items())
    )


def test_every_documented_variable_still_exists() -> None:
    code = in_code()
    stale = sorted(d for d in documented() if d not in code)
    assert not stale, f"docs/configuration.md lists variables no code reads: {stale}"


def test_the_check_catches_both_directions(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text('os.environ.get("GARDEFOU_NEW_THING")\n_GARDEFOU_META = 1\n')
    page = tmp_path / "c.md"
    page.write_text("| `GARDEFOU_GONE` | 1 | x |\n| `GARDEFOU_X_<NAME>_Y` | - | y |\n")
    code = in_code(tmp_path)
    assert set(code) == {"GARDEFOU_NEW_THING"}
    docs = documented(page)
    assert docs == {"GARDEFOU_GONE", "GARDEFOU_X_"}
    assert not _covered("GARDEFOU_NEW_THING", docs)
    assert _covered("GARDEFOU_X_", docs)
