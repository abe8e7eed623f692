"""The exception tree of gardefou.

Every error names the bad value and the fix. The web layer maps this tree to HTTP statuses in one
place; the CLI maps it to exit codes.

    GardefouError
    ├── ConfigError                 bad configuration value or file            (HTTP 400, exit 2)
    │   └── RegistryError           a signal registered twice, or not as its entry point says
    ├── MediaError                  input media rejected by intake             (HTTP 422, exit 1)
    │   ├── EmptyMediaError         zero bytes
    │   ├── UnsupportedFormatError  content is not a supported image format (SVG, text, ...)
    │   ├── CorruptMediaError       truncated or undecodable bytes
    │   ├── MediaTooLargeError      bytes, pixels, dimensions or frames over a limit   (HTTP 413)
    │   │   └── MediaTooLongError   a video's duration over the limit
    │   ├── MediaTimeoutError       decoding took longer than the limit allows
    │   └── MediaUnreadableError    the file cannot be opened or read
    ├── SignalError                 a signal failed on one input
    │   └── ModelUnavailableError   a model or its package cannot be loaded (names the extra)
    ├── PolicyError                 a policy file is invalid (line-numbered)
    ├── BankError                   bank operations (unknown bank, bad hash, bad import row)
    │   └── HashFormatError         a hash string is not valid
    ├── StoreError                  storage problems (schema version, connection)
    │   └── SchemaBehindError       migrations pending and auto-migration off   (HTTP 503, exit 2)
    ├── NotFoundError               an id that does not exist                  (HTTP 404)
    │   └── GoneError               it existed but has expired (a signed link)  (HTTP 410)
    ├── AuthError                   missing or wrong credentials               (HTTP 401)
    │   └── ForbiddenError          authenticated but not allowed              (HTTP 403)
    ├── GuardInputError             bad guard request (empty prompt, too many images)  (HTTP 422)
    ├── EvidenceError               the evidence log or a bundle does not verify
    │   ├── ProofError              a Merkle proof, checkpoint or bundle fails to verify   (exit 3)
    │   └── LegalHoldError          deletion refused: the item is under a legal hold   (HTTP 409)
    ├── PipelineError               a runner cannot proceed (bad source, stream down)  (exit 2)
    │   └── PipelineEventError      one malformed event (dead-lettered)          (HTTP 422)
    │       └── FieldTooLongError   a text field over its length limit (names both)
    ├── ExchangeError               a hash exchange failed or sent a malformed page (HTTP 502)
    │   └── ExchangeAuthError       the exchange refused the credentials       (HTTP 502)
    ├── TakedownError               a takedown request lacks a required element  (HTTP 422)
    │   └── TakedownStateError      action not allowed in the request's status   (HTTP 409)
    ├── RateLimitError              too many requests for this key or client     (HTTP 429)
    │   └── BusyError               every decode slot is taken; retry shortly     (HTTP 503)
    ├── SanctionError               an account sanction forbids the request      (HTTP 403)
    ├── FetchError                  a URL the server was asked to fetch failed   (HTTP 400)
    │   └── UnsafeUrlError          its scheme, host or address is not allowed   (HTTP 400)
    └── UpstreamError               the gateway's generator failed or answered garbage (HTTP 502)
        └── UpstreamTimeoutError    the generator did not answer in time         (HTTP 504)
"""

from __future__ import annotations


class GardefouError(Exception):
    """Base of every error gardefou raises on purpose."""

    #: short machine-readable code, stable across versions
    code = "error"
    http_status = 500
    exit_code = 1

    def to_dict(self) -> dict[str, str]:
        return {"error": self.code, "type": type(self).__name__, "message": str(self)}


class ConfigError(GardefouError):
    code = "config"
    http_status = 400
    exit_code = 2


class RegistryError(ConfigError):
    """A signal name registered twice (two plugins, or a plugin shadowing a built-in), or an
    entry point whose class is not the signal it names."""

    code = "registry"


class MediaError(GardefouError):
    code = "media"
    http_status = 422


class EmptyMediaError(MediaError):
    code = "media_empty"


class UnsupportedFormatError(MediaError):
    code = "media_unsupported"
    http_status = 415


class CorruptMediaError(MediaError):
    code = "media_corrupt"


class MediaTooLargeError(MediaError):
    code = "media_too_large"
    http_status = 413


class MediaTooLongError(MediaTooLargeError):
    """A video (or animation) runs longer than VideoLimits.max_seconds."""

    code = "media_too_long"


class MediaTimeoutError(MediaError):
    """Decoding exceeded VideoLimits.max_decode_seconds (a slow or hostile file)."""

    code = "media_timeout"


class MediaUnreadableError(MediaError):
    code = "media_unreadable"


class SignalError(GardefouError):
    code = "signal"


class ModelUnavailableError(SignalError):
    code = "model_unavailable"
    http_status = 503


class PolicyError(GardefouError):
    code = "policy"
    http_status = 400
    exit_code = 2


class BankError(GardefouError):
    code = "bank"
    http_status = 400


class HashFormatError(BankError):
    code = "hash_format"
    http_status = 422


class StoreError(GardefouError):
    code = "store"


class SchemaBehindError(StoreError):
    """The store lacks migrations this gardefou needs, and migrating on open is turned off
    (GARDEFOU_AUTO_MIGRATE=0 or ``--no-migrate``): ``gardefou db upgrade`` applies them."""

    code = "schema_behind"
    http_status = 503
    exit_code = 2


class NotFoundError(GardefouError):
    code = "not_found"
    http_status = 404


class GoneError(NotFoundError):
    code = "gone"
    http_status = 410


class AuthError(GardefouError):
    code = "unauthorized"
    http_status = 401


class ForbiddenError(AuthError):
    code = "forbidden"
    http_status = 403


class GuardInputError(GardefouError):
    code = "guard_input"
    http_status = 422


class EvidenceError(GardefouError):
    code = "evidence"


class ProofError(EvidenceError):
    code = "evidence_proof"
    http_status = 422
    exit_code = 3


class LegalHoldError(EvidenceError):
    code = "legal_hold"
    http_status = 409


class PipelineError(GardefouError):
    """A runner cannot proceed (bad source, unreachable stream, Ray missing)."""

    code = "pipeline"
    exit_code = 2


class PipelineEventError(PipelineError):
    """One event is malformed (missing id, bad media reference); it goes to the dead letters."""

    code = "pipeline_event"
    http_status = 422
    exit_code = 1


class FieldTooLongError(PipelineEventError):
    """An event's text field is longer than its limit (the message names the length and limit)."""

    code = "field_too_long"


class ExchangeError(GardefouError):
    """A hash exchange (StopNCII, a snapshot file) failed, or sent a page that does not parse.
    Nothing of the failed page is stored: the checkpoint stays where the last good page left it."""

    code = "exchange"
    http_status = 502

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        #: the exchange's HTTP status, when it answered
        self.status: int | None = None


class ExchangeAuthError(ExchangeError):
    """The exchange refused the credentials (HTTP 401/403): retrying will not help."""

    code = "exchange_auth"


class TakedownError(GardefouError):
    """A takedown request or notice is missing one of its required elements, or is malformed."""

    code = "takedown"
    http_status = 422


class TakedownStateError(TakedownError):
    """The action does not apply to the request's current status (e.g. accepting it twice)."""

    code = "takedown_state"
    http_status = 409


class RateLimitError(GardefouError):
    """Too many requests; ``retry_after`` says when to try again (seconds)."""

    code = "rate_limited"
    http_status = 429

    def __init__(self, message: str, retry_after: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class BusyError(RateLimitError):
    """The server's bounded work (image decodes) is saturated; ``retry_after`` seconds."""

    code = "busy"
    http_status = 503


class SanctionError(GardefouError):
    """An account sanction in force (strikes) forbids this request; names it and its end."""

    code = "sanction"
    http_status = 403

    def __init__(self, message: str, sanction: str, ends_at: str | None = None,
                 retry_after: float | None = None) -> None:  # fmt: skip
        super().__init__(message)
        self.sanction = sanction
        self.ends_at = ends_at
        self.retry_after = retry_after


class FetchError(GardefouError):
    """A URL a caller asked the server to fetch (HMA ``?url=``) was unreachable, slow, not a
    200 answer or redirected too often; the message names the URL and the problem."""

    code = "fetch_failed"
    http_status = 400


class UnsafeUrlError(FetchError):
    """The URL's scheme, host or resolved address is refused (not http(s), or an address of
    the server's own networks); the message names the setting that allows a network."""

    code = "unsafe_url"
    http_status = 400


class UpstreamError(GardefouError):
    """The generator behind the gateway is down, refused, or answered something unusable."""

    code = "upstream"
    http_status = 502


class UpstreamTimeoutError(UpstreamError):
    """The generator behind the gateway did not answer within the configured timeout."""

    code = "upstream_timeout"
    http_status = 504
