"""The base of the JSON request bodies: an unknown field is refused (422 naming it), so a
misspelt option is never silently ignored."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictBody(BaseModel):
    model_config = ConfigDict(extra="forbid")


__all__ = ["StrictBody"]
