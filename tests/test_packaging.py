"""Package metadata: the licence is declared once (SPDX) and shipped, the changelog has released
sections that match the package version."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_licence_is_an_spdx_string_with_its_file() -> None:
    meta = PROJECT["project"]
    # `license = {text = ...}` is deprecated by setuptools (PEP 639) and warns on every build
    assert meta["license"] == "Apache-2.0"
    for name in meta["license-files"]:
        text = (ROOT / name).read_text(encoding="utf-8")
        assert "Apache License" in text and "Version 2.0" in text
    # setuptools refuses a licence classifier next to an SPDX expression
    assert not [c for c in meta["classifiers"] if c.startswith("License ::")]


def test_build_backend_reads_spdx_licences() -> None:
    (req,) = PROJECT["build-system"]["requires"]
    low = re.search(r"setuptools>=(\d+)", req)
    assert low is not None and int(low.group(1)) >= 77, req  # first with PEP 639 support


def test_metadata_for_an_index() -> None:
    meta = PROJECT["project"]
    assert meta["classifiers"] and meta["urls"]
    assert all(url.startswith("https://") for url in meta["urls"].values())
    minor = meta["requires-python"].removeprefix(">=")
    assert f"Programming Language :: Python :: {minor}" in meta["classifiers"]


def test_changelog_has_a_section_for_the_package_version() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    sections = re.findall(r"^## \[([^\]]+)\](?: - (\d{4}-\d{2}-\d{2}))?$", text, re.M)
    names = [name for name, _ in sections]
    assert names[0] == "Unreleased"
    version = PROJECT["project"]["version"]
    assert version in names, f"CHANGELOG.md has no '## [{version}] - date' section"
    assert all(date for name, date in sections if name != "Unreleased")
