"""What every guard verdict shares: the policy name it cites and the DSA statement fields of a
refusal, plus the part of ``Guard`` the output check reads (``OutputJudge``). A leaf, so that
``guard.py`` (requests) and ``output.py`` (outputs) both import it and neither imports the other
back."""

from __future__ import annotations

from typing import Any, Protocol

from gardefou.guard.images import ImageFacts, ImageReader

POLICY = "guard-default@1"


def dsa_fields(category: str) -> dict[str, Any]:
    """The DSA statement-of-reasons fields of a refusal in ``category`` ("minor" or other)."""
    if category == "minor":
        return {"category": "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
                "decision_ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT"}  # fmt: skip
    return {"category": "STATEMENT_CATEGORY_CYBER_VIOLENCE",
            "category_specification": ["KEYWORD_NON_CONSENSUAL_IMAGE_SHARING"],
            "decision_ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT"}  # fmt: skip


class _OutputConfig(Protocol):
    @property
    def refuse_fictional_sexual(self) -> bool: ...


class OutputJudge(Protocol):
    """What the output check needs from a guard (``Guard`` is one): its image reader, its
    configuration and its face comparison."""

    @property
    def images(self) -> ImageReader: ...

    @property
    def config(self) -> _OutputConfig: ...

    def _same_person(self, a: ImageFacts, b: ImageFacts) -> tuple[bool | None, float | None]: ...
