"""The exception tree of gardefou.

Every error names the bad value and the fix. The web layer maps this tree to HTTP statuses in one
place; the CLI maps it to exit codes.

    GardefouError
    ├── ConfigError                 bad configuration value or file            (HTTP 400, exit 2)
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
    ├── NotFoundError               an id that does not exist                  (HTTP 404)
    ├── AuthError                   missing or wrong credentials               (HTTP 401)
    │   └── ForbiddenError          authenticated but not allowed              (HTTP 403)
    ├── GuardInputError             bad guard request (empty prompt, too many images)  (HTTP 422)
    ├── EvidenceError               the evidence log or a bundle does not verify
    │   ├── ProofError              a Merkle proof, checkpoint or bundle fails to verify   (exit 3)
    │   └── LegalHoldError          deletion refused: the item is under a legal hold   (HTTP 409)
    ├── PipelineError               a runner cannot proceed (bad source, stream down)  (exit 2)
    │   └── PipelineEventError      one malformed event (dead-lettered)          (HTTP 422)
    ├── TakedownError               a takedown request lacks a required element  (HTTP 422)
    │   └── TakedownStateError      action not allowed in the request's status   (HTTP 409)
    └── RateLimitError              too many requests for this key or client     (HTTP 429)
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


class NotFoundError(GardefouError):
    code = "not_found"
    http_status = 404


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
