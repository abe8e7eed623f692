"""Submit statements of reasons to the EU Transparency Database API.

``POST {base}/api/v1/statements`` with ``{"statements": [...]}`` of at most 100, a bearer
token, JSON in and out. 201 means every statement of the batch was created; 422 means none was
(the body names the failing fields per ``statement_<index>``, or a duplicate puid); 429 and 5xx
are retried with backoff. The API allows 200 requests/s per user, far above what one exporter
sends, so batches go one after another.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from gardefou.errors import ConfigError, GardefouError
from gardefou.reports.dsa import batches


@dataclass
class SubmitResult:
    created: int = 0
    batches_sent: int = 0
    #: statements of refused (422) batches: none of them was created, fix and resend them all
    not_created: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)  # {"puid", "errors"}

    def to_dict(self) -> dict[str, Any]:
        return {"created": self.created, "batches_sent": self.batches_sent,
                "not_created": self.not_created, "rejected": self.rejected}  # fmt: skip


def submit(statements: list[dict[str, Any]], base_url: str, token: str,
           client: Any = None, retries: int = 5, backoff: float = 1.0) -> SubmitResult:  # fmt: skip
    """Send ``statements`` in batches of 100; collect per-statement rejections (422)."""
    if not token:
        raise ConfigError("submitting needs the API token (set GARDEFOU_DSA_TOKEN)")
    if client is None:
        try:
            import httpx
        except ImportError:
            raise ConfigError("submitting needs httpx: `pip install 'gardefou[service]'`") from None
        client = httpx.Client(timeout=60)
    url = base_url.rstrip("/") + "/api/v1/statements"
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json",
               "Content-Type": "application/json"}  # fmt: skip
    result = SubmitResult()
    for body in batches(statements):
        for attempt in range(retries + 1):
            resp = client.post(url, json=body, headers=headers)
            if resp.status_code in (429, 500, 502, 503, 504) and attempt < retries:
                time.sleep(backoff * 2**attempt)
                continue
            break
        result.batches_sent += 1
        if resp.status_code == 201:
            result.created += len(body["statements"])
        elif resp.status_code == 422:
            result.not_created += len(body["statements"])
            errors = resp.json().get("errors", {})
            for key, fields in errors.items():
                idx = int(key.removeprefix("statement_")) if key.startswith("statement_") else 0
                puid = body["statements"][idx]["puid"] if idx < len(body["statements"]) else None
                result.rejected.append({"puid": puid, "errors": fields})
        elif resp.status_code == 401:
            raise ConfigError("the Transparency Database refused the token (401); check "
                              "GARDEFOU_DSA_TOKEN")  # fmt: skip
        else:
            raise GardefouError(f"the Transparency Database answered {resp.status_code} for a "
                              f"batch of {len(body['statements'])}: {resp.text[:300]}")  # fmt: skip
    return result
