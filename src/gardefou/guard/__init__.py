"""The guardrail for image generators: refuse sexualized edits of real people and minors.

    from gardefou.guard import Guard
    d = Guard().check_request("put her in a bikini", images=["photo.jpg"])
    d.action  # Action.REFUSE

See docs/guard.md for the API, the policy and the known errors.
"""

from __future__ import annotations

from gardefou.guard.guard import Context, Guard, GuardConfig, request_hash, validate_prompt
from gardefou.guard.intent import Intent, IntentClassifier
from gardefou.guard.normalize import normalize

__all__ = [
    "Context",
    "Guard",
    "GuardConfig",
    "Intent",
    "IntentClassifier",
    "normalize",
    "request_hash",
    "validate_prompt",
]
