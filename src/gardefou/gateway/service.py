"""The gateway's decisions, independent of HTTP: admit, check, generate, check, label, account.

    sanctions in force? -> rate limits -> inputs decoded and bounded -> Guard.check_request
    -> upstream generator -> Guard.check_output on every image -> C2PA label -> response

Every guard decision is audited (prompt text only when retention is configured). A refusal of the
request, or a withheld output, opens a case for the ``user`` through ``CaseStore``: a strike
under the policy's accountability section, reversed by an appeal as any other case. A refusal
because a check could not run (a model missing) is the operator's problem: no strike, HTTP 503.
Fail closed throughout: an image is returned only after its output check allowed it and it was
labelled; anything else withholds it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gardefou.decision import Action, Decision, Reason
from gardefou.errors import (
    GardefouError,
    GuardInputError,
    MediaError,
    RateLimitError,
    SanctionError,
    UpstreamError,
    UpstreamTimeoutError,
)
from gardefou.gateway.accounts import open_strike, sanctions_in_force, with_strike
from gardefou.gateway.config import GatewayConfig
from gardefou.gateway.inputs import read_inputs
from gardefou.gateway.metrics import GatewayMetrics
from gardefou.gateway.upstream import File, ImageRequest, Upstream
from gardefou.guard import Context, Guard
from gardefou.guard.audit import AuditLog
from gardefou.media import Media
from gardefou.ratelimit import RateLimiter

FAIL_CLOSED = "fail_closed_signal_unavailable"


@dataclass
class Withheld:
    index: int
    decision_id: str | None
    reasons: list[dict[str, Any]]
    policy: bool  # True: the output broke the policy (strike); False: it could not be checked


class Refused(Exception):
    """The request is answered without an image; the app renders the OpenAI error shape."""

    def __init__(self, status: int, code: str, message: str, details: dict[str, Any]) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


def _reasons(d: Decision) -> list[dict[str, Any]]:
    return [{"code": r.code, "message": r.message, "category": r.category} for r in d.reasons]


def _checks_failed(d: Decision) -> bool:
    return bool(d.reasons) and all(r.code == FAIL_CLOSED for r in d.reasons)


@dataclass
class GatewayService:
    config: GatewayConfig
    guard: Guard
    upstream: Upstream
    db: Any  # gardefou.store.Database
    labeller: Any = None  # gateway.labels.Labeller; None only with config.labels == "none"
    limits: RateLimiter = field(default_factory=RateLimiter)
    metrics: GatewayMetrics = field(default_factory=GatewayMetrics)
    policy: Any = None
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def __post_init__(self) -> None:
        from gardefou.cases import CaseStore
        from gardefou.policy import load_default_policy, load_policy

        if self.config.labels == "c2pa" and self.labeller is None:
            from gardefou.errors import ConfigError

            raise ConfigError(
                "labels='c2pa' needs a Labeller (gardefou.gateway.build_service "
                "makes one from c2pa_cert/c2pa_key); set labels='none' to run "
                "without labels"
            )
        if self.policy is None:
            self.policy = (
                load_policy(self.config.policy) if self.config.policy else load_default_policy()
            )
        self.cases = CaseStore(
            self.db,
            self.policy,
            clock=self.clock,
            exempt_accounts=frozenset(self.config.exempt_users),
        )
        self.audit = AuditLog(self.db, self.config.retain_prompt_days, record_all=True)
        self.files = None  # response_format=url storage, only when the operator configures it
        if self.config.image_dir and self.config.image_url:
            from gardefou.gateway.files import ImageFiles

            secret = self.config.url_secret
            self.files = ImageFiles(
                Path(self.config.image_dir),
                self.config.image_url,
                self.config.url_ttl_s,
                secret.encode() if secret else b"",
            )
        self._purged_at = 0.0

    # -- admission ----------------------------------------------------------------------------
    def admit(self, kind: str, user: str | None, caller: str) -> None:
        """Sanctions of ``user`` in force, then the per-user and global rate limits."""
        if self.config.require_user and not user:
            raise GuardInputError(
                "this gateway needs a `user` field (the end user's id) on "
                "every request, so that refusals count for that user"
            )
        if user:
            for sanction in sanctions_in_force(self.cases, self.limits, self.config, kind, user):
                self._count_refusal("sanction", sanction.sanction)
                raise sanction
        self.limits.hit_rate("global", "all", self.config.rate_global, "global")
        self.limits.hit_rate(
            "user", f"user:{user}" if user else f"key:{caller}", self.config.rate_user, "per-user"
        )

    # -- the request ----------------------------------------------------------------------------
    def handle(
        self,
        kind: str,
        prompt: str,
        params: dict[str, Any],
        user: str | None,
        caller: str,
        images: Sequence[File] = (),
        mask: File | None = None,
        history: Sequence[str] = (),
        response_format: str | None = None,
    ) -> dict[str, Any]:
        t0 = time.perf_counter()
        upstream_s = 0.0
        outcome = "error"
        try:
            if response_format == "url" and self.files is None:
                raise GuardInputError(
                    "response_format=url needs image storage, which this gateway does not "
                    "configure (settings image_dir and image_url: GARDEFOU_GATEWAY_IMAGE_DIR, "
                    "GARDEFOU_GATEWAY_IMAGE_URL); ask for b64_json"
                )
            self.admit(kind, user, caller)
            media = read_inputs(self.guard, self.config, kind, images, mask, history, params)
            decision = self.guard.check_request(prompt, media, Context(tuple(history)))
            if not decision.allowed:
                decision_id = self._audit("gateway_request", prompt, media, decision)
                self._refuse_request(decision, decision_id, user, prompt, media)
            # An allowed request's audit row is written with its outputs' rows, in one
            # transaction (one commit, not 1 + n); if no output stage is reached, it is
            # written alone before the error propagates.
            pending = ("gateway_request", prompt, media, decision)
            request = ImageRequest(kind, prompt, params, tuple(images), mask)
            t_up = time.perf_counter()
            try:
                result = self.upstream.generate(request)
            except BaseException as exc:
                if isinstance(exc, UpstreamError):
                    upstream_s = time.perf_counter() - t_up  # a timeout is not the gateway's
                    kind_ = "timeout" if isinstance(exc, UpstreamTimeoutError) else "error"
                    self.metrics.upstream_errors.labels(kind_).inc()
                self._audit(*pending)
                raise
            upstream_s = result.latency_s
            self.metrics.upstream_latency.labels(kind).observe(upstream_s)
            body = self._outputs(
                kind, prompt, media, result, pending, user, params, response_format == "url"
            )
            outcome = "ok" if not body["gardefou"]["withheld"] else "partial"
            return body
        except Refused as r:
            outcome = "refused" if r.status == 400 else "unavailable"
            raise
        except (SanctionError, RateLimitError):
            outcome = "limited"
            raise
        except (GuardInputError, MediaError):
            outcome = "invalid"
            raise
        finally:
            self.metrics.requests.labels(kind, outcome).inc()
            self.metrics.added_latency.labels(kind).observe(
                max(0.0, time.perf_counter() - t0 - upstream_s)
            )

    def _audit(self, kind: str, text: str, media: Sequence[Media], d: Decision) -> str:
        if self.config.retain_prompt_days and time.monotonic() - self._purged_at > 3600:
            self.purge_prompts()  # retention is enforced by the gateway itself, hourly
        return f"gw-{self.audit.record(kind, text, media, d)}"

    def purge_prompts(self, now: datetime | None = None) -> int:
        """Blank audited prompt text older than ``retain_prompt_days``; rows changed."""
        self._purged_at = time.monotonic()
        return self.audit.purge(now)

    def _count_refusal(self, stage: str, reason: str) -> None:
        self.metrics.refusals.labels(stage, reason).inc()

    def _refuse_request(
        self, d: Decision, decision_id: str, user: str | None, prompt: str, media: list[Media]
    ) -> None:
        for r in d.reasons or (Reason("refused", "refused", None, None, ""),):
            self._count_refusal("request", r.code)
        details: dict[str, Any] = {
            "decision_id": decision_id,
            "stage": "request",
            "action": str(d.action),
            "reasons": _reasons(d),
            "unavailable": list(d.unavailable),
        }
        if _checks_failed(d):
            raise Refused(
                503,
                "safety_check_unavailable",
                "the request could not be checked "
                f"({d.reasons[0].message}); nothing was generated. The operator must "
                "install the missing model; retry later",
                details,
            )
        details["accountability"] = open_strike(
            self.cases, f"gateway:{decision_id}", "generation_request", d, user
        )
        if d.action == Action.REVIEW:
            msg = (
                f"the request was held for human review ({d.reasons[0].message}); nothing was "
                "generated"
            )
        else:
            msg = (
                f"the request was refused by the safety policy: {d.reasons[0].message}. "
                "Nothing was generated"
            )
        raise Refused(400, "content_policy_violation", with_strike(msg, details), details)

    # -- outputs --------------------------------------------------------------------------------
    def _outputs(
        self,
        kind: str,
        prompt: str,
        media: list[Media],
        result: Any,
        pending: tuple[str, str, list[Media], Decision],
        user: str | None,
        params: dict[str, Any],
        as_url: bool = False,
    ) -> dict[str, Any]:
        n = int(params.get("n", 1))
        try:
            data, withheld, first_refusal, rows = self._check_outputs(
                kind, prompt, media, result, n, as_url
            )
        except BaseException:
            self._audit(*pending)  # an unexpected failure: the request is on record all the same
            raise
        # The request's audit row and its outputs' rows: one transaction, one commit, written
        # after the checks (the database lock is not held while images are checked and signed)
        # and before any image is released (a failed write answers an error, no image).
        with self.db.transaction():
            decision_id = self._audit(*pending)
            ids = [self._audit(*row) for row in rows]
        for w in withheld:
            if w.decision_id is not None:
                w.decision_id = ids[int(w.decision_id)]
        self.metrics.images.labels("returned").inc(len(data))
        self.metrics.images.labels("withheld").inc(len(withheld))
        meta: dict[str, Any] = {
            "decision_id": decision_id,
            "requested": n,
            "returned": len(data),
            "withheld": [w.__dict__ for w in withheld],
            "labels": {
                "c2pa": self.labeller is not None,
                "watermark": bool(self.labeller and self.labeller.watermark),
            },
        }
        if first_refusal is not None:
            meta["accountability"] = open_strike(
                self.cases,
                f"gateway:{decision_id}:output",
                "generation_output",
                first_refusal,
                user,
            )
        if not data:
            if first_refusal is not None:
                msg = (
                    f"the generated image{'s were' if n > 1 else ' was'} withheld by the "
                    f"safety policy: {withheld[0].reasons[0]['message']}"
                )
                raise Refused(400, "content_policy_violation", with_strike(msg, meta), meta)
            raise Refused(
                502 if withheld[0].reasons[0]["code"] == "output_unreadable" else 503,
                "output_unchecked",
                "no generated image could be checked and "
                f"labelled ({withheld[0].reasons[0]['message']}); none is returned",
                meta,
            )
        extra = {k: v for k, v in result.extra.items() if k not in ("gardefou", "error")}
        if meta["labels"]["watermark"] and "output_format" in extra:
            extra["output_format"] = "png"  # the watermark is written losslessly (labels.py)
        return {"created": int(self.clock().timestamp()), "data": data, **extra, "gardefou": meta}

    def _check_outputs(
        self, kind: str, prompt: str, media: list[Media], result: Any, n: int, as_url: bool
    ) -> tuple[list[dict[str, Any]], list[Withheld], Decision | None, list[tuple[Any, ...]]]:
        """Check and label each image: (answer items, withheld, first policy refusal, the
        audit rows to write)."""
        data: list[dict[str, Any]] = []
        withheld: list[Withheld] = []
        first_refusal: Decision | None = None
        rows: list[tuple[Any, ...]] = []
        for i, raw in enumerate(result.images[:n]):
            try:
                out = self.guard.load_images([raw])[0]
            except (MediaError, GuardInputError) as exc:
                withheld.append(
                    Withheld(
                        i,
                        None,
                        [
                            {
                                "code": "output_unreadable",
                                "message": f"the generator's image {i} was rejected: {exc}",
                                "category": "",
                            }
                        ],
                        False,
                    )
                )
                self._count_refusal("output", "output_unreadable")
                continue
            d = self.guard.check_output(out, prompt, media)
            rows.append(("gateway_output", prompt, [out, *media], d))
            did = str(len(rows) - 1)  # the row's place; its id once written (_outputs)
            if not d.allowed:
                policy = not _checks_failed(d)
                withheld.append(Withheld(i, did, _reasons(d), policy))
                for r in d.reasons:
                    self._count_refusal("output", r.code)
                if policy and first_refusal is None:
                    first_refusal = d
                continue
            try:
                if self.labeller is None:
                    labelled = out.data
                elif self.labeller.watermark:  # the check's decode spares the watermark one
                    labelled = self.labeller.label(out.data, kind, decoded=out.image)
                else:
                    labelled = self.labeller.label(out.data, kind)
            except GardefouError as exc:
                withheld.append(
                    Withheld(
                        i,
                        did,
                        [{"code": "label_failed", "message": str(exc), "category": ""}],
                        False,
                    )
                )
                self._count_refusal("output", "label_failed")
                continue
            item: dict[str, Any] = (
                {"url": self.files.put(labelled)}
                if as_url and self.files is not None
                else {"b64_json": _b64(labelled)}
            )
            rp = result.revised_prompts[i] if i < len(result.revised_prompts) else None
            if rp:
                item["revised_prompt"] = rp
            data.append(item)
        return data, withheld, first_refusal, rows


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode("ascii")
