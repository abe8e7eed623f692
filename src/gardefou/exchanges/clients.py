"""Exchange clients: from an exchange's pages to ``Record``s and a checkpoint.

A client turns one request into one ``Page``: records (a signal type, a value, ``active`` or
``withdrawn``, metadata), the checkpoint to store once the page is committed, and whether more
pages follow. The sync engine (sync.py) commits each page and its checkpoint together.

StopNCII goes through python-threatexchange's ``StopNCIIAPI`` (``pip install
'gardefou[exchanges]'``): its session sets the two keys StopNCII wants and retries GETs on
429/5xx, honouring ``Retry-After``. Records are decoded here rather than with the library's
dataclasses because those drop any record of a type or status they do not know (logged, not
returned) and its exchange adapter compares ``hashValue`` instead of ``hashStatus`` to the
withdrawn states, so withdrawals would never be applied.

``file`` exchanges read a snapshot (te or hma format, see banks/formats.py): each fetch is the
whole set, and a signal missing from a new snapshot is withdrawn.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gardefou.errors import BankError, ConfigError, ExchangeAuthError, ExchangeError

log = logging.getLogger(__name__)

#: StopNCII signalType -> python-threatexchange signal type name
STOPNCII_TYPES = {
    "ImagePDQ": "pdq",
    "VideoMD5": "video_md5",
    "VideoTMK": "video_tmk",
    "Text": "raw_text",
    "URL": "url",
}
_WITHDRAWN = {"Withdrawn", "Deleted"}
#: gardefou's feedback verdicts -> StopNCII CSP feedback values
STOPNCII_FEEDBACK = {"seen": "PendingReview", "blocked": "Blocked", "not_blocked": "NotBlocked"}
#: first fetch: StopNCII's documented lowest start time
STOPNCII_START = 10


@dataclass(frozen=True)
class Record:
    signal_type: str
    value: str
    withdrawn: bool = False
    metadata: dict[str, Any] = field(default_factory=dict)
    #: the exchange's own id of the item; a withdrawal with a ref and no value withdraws every
    #: signal stored under that ref (NCMEC deletes entries by id)
    ref: str | None = None


@dataclass
class Page:
    records: list[Record]
    checkpoint: dict[str, Any]
    more: bool
    malformed: int = 0
    #: the exchange's time of the newest record, when it says (progress on long fetches)
    progress_time: int | None = None
    #: the records are the whole set: anything active and absent from them was withdrawn
    snapshot: bool = False


class Client:
    """One exchange kind. ``fetch_page`` raises ExchangeError (retry may help) or
    ExchangeAuthError (it will not)."""

    kind = ""
    supports_feedback = False

    def fetch_page(self, checkpoint: dict[str, Any]) -> Page:
        raise NotImplementedError

    def send_feedback(self, items: list[tuple[str, str, str, list[str]]]) -> None:
        """(signal_type, value, verdict, tags) for each item."""
        raise ExchangeError(f"{self.kind} exchanges take no feedback")


def _requests_errors() -> tuple[type[BaseException], ...]:
    import requests

    return (requests.RequestException,)


def retry_after(exc: BaseException) -> float | None:
    response = getattr(exc, "response", None)
    value = response.headers.get("Retry-After") if response is not None else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


class StopNCIIClient(Client):
    kind = "stopncii"
    supports_feedback = True

    def __init__(self, url: str, secret: str, page_size: int = 800) -> None:
        try:
            from threatexchange.exchanges.clients.stopncii import api
        except ImportError:
            raise ConfigError(
                "StopNCII exchanges need python-threatexchange; install it with "
                "`pip install 'gardefou[exchanges]'`"
            ) from None
        parts = [p.strip() for p in secret.split(",")]
        if len(parts) not in (2, 3) or not all(parts):
            raise ExchangeAuthError(
                "StopNCII credentials must be 'fetch_function_key,subscription_key' or "
                "'fetch_function_key,subscription_key,feedback_function_key'"
            )
        extra = {api.StopNCIIEndpoint.SubmitFeedback: parts[2]} if len(parts) == 3 else {}
        self._api_mod = api
        self.api = api.StopNCIIAPI(
            parts[1], parts[0], additional_function_keys=extra, base_url_override=url or None
        )
        self.page_size = page_size
        self.supports_feedback = len(parts) == 3

    def _get(self, **params: Any) -> Any:
        api = self._api_mod
        try:
            return self.api._get(api.StopNCIIEndpoint.FetchHashes, **params)
        except _requests_errors() as exc:
            status = getattr(getattr(exc, "response", None), "status_code", None)
            if status in (401, 403):
                raise ExchangeAuthError(
                    f"StopNCII refused the credentials (HTTP {status}); check the keys"
                ) from None
            if isinstance(exc, ValueError):  # the body was not JSON
                raise ExchangeError(f"StopNCII sent a malformed page (not JSON: {exc})") from None
            err = ExchangeError(
                f"StopNCII fetch failed: {type(exc).__name__}: {str(exc)[:300]}",
                retry_after=retry_after(exc),
            )
            err.status = status
            raise err from None

    def fetch_page(self, checkpoint: dict[str, Any]) -> Page:
        update_time = int(checkpoint.get("update_time", STOPNCII_START))
        run_start = int(checkpoint.get("run_start", update_time))
        token = str(checkpoint.get("page_token", ""))
        params: dict[str, Any] = {"startTimestamp": run_start, "pageSize": self.page_size}
        if token:
            params["nextPageToken"] = token
        body = self._get(**params)
        if not isinstance(body, dict):
            raise ExchangeError(f"StopNCII sent a malformed page: a {type(body).__name__}")
        try:
            more = body["hasMoreRecords"]
            next_set = int(body["nextSetTimestamp"])
            raw = body.get("hashRecords") or []
            if not isinstance(more, bool) or not isinstance(raw, list):
                raise TypeError("hasMoreRecords or hashRecords has the wrong type")
        except (KeyError, TypeError, ValueError) as exc:
            raise ExchangeError(f"StopNCII sent a malformed page ({exc!r})") from None
        records, malformed, newest = [], 0, None
        for item in raw:
            rec = _stopncii_record(item)
            if rec is None:
                malformed += 1
                log.warning("StopNCII record skipped (malformed): %.200r", item)
                continue
            records.append(rec)
            ts = rec.metadata.get("lastModtimestamp")
            newest = ts if isinstance(ts, int) and (newest is None or ts > newest) else newest
        next_token = body.get("nextPageToken") or ""
        if more and not next_token:
            raise ExchangeError("StopNCII sent a malformed page: more records but no page token")
        if more:  # mid-run: resume from the same start with the next token
            cp = {"update_time": update_time, "run_start": run_start, "page_token": next_token}
        else:  # run complete: the next run starts where StopNCII says
            cp = {"update_time": max(next_set, update_time)}
        return Page(records, cp, more, malformed, newest)

    def restart_run(self, checkpoint: dict[str, Any]) -> dict[str, Any]:
        """A page token can expire: restart the run from its start (records are idempotent)."""
        return {k: v for k, v in checkpoint.items() if k != "page_token"}

    def send_feedback(self, items: list[tuple[str, str, str, list[str]]]) -> None:
        api = self._api_mod
        if not self.supports_feedback:
            raise ExchangeAuthError(
                "StopNCII feedback needs a third credential, the SubmitFeedback function key"
            )
        reverse = {v: k for k, v in STOPNCII_TYPES.items()}
        batch = {
            (api.StopNCIISignalType(reverse.get(t, "Unknown")), value): api.StopNCIICSPFeedback(
                api.StopNCIICSPFeedbackValue(STOPNCII_FEEDBACK[verdict]), set(tags)
            )
            for t, value, verdict, tags in items
        }
        try:
            self.api.submit_feedbacks(batch)
        except _requests_errors() as exc:
            status = getattr(getattr(exc, "response", None), "status_code", None)
            if status in (401, 403):
                raise ExchangeAuthError(
                    f"StopNCII refused the feedback key (HTTP {status})"
                ) from None
            raise ExchangeError(
                f"StopNCII feedback failed: {str(exc)[:300]}", retry_after=retry_after(exc)
            ) from None


def _stopncii_record(item: Any) -> Record | None:
    if not isinstance(item, dict):
        return None
    value, kind, status = item.get("hashValue"), item.get("signalType"), item.get("hashStatus")
    if not isinstance(value, str) or not value.strip() or not isinstance(kind, str):
        return None
    if not isinstance(status, str):
        return None
    signal_type = STOPNCII_TYPES.get(kind) or "stopncii_" + "".join(
        c if c.isalnum() else "_" for c in kind.lower()
    )
    meta: dict[str, Any] = {"hashStatus": status}
    for key in ("lastModtimestamp", "caseNumbers", "CSPFeedbacks"):
        if key in item:
            meta[key] = item[key]
    return Record(signal_type, value.strip(), status in _WITHDRAWN, meta)


class FileClient(Client):
    """A snapshot file (te or hma format): the whole set each time it changes."""

    kind = "file"

    def __init__(self, url: str, reader: Callable[[str], str] | None = None) -> None:
        if not url:
            raise ConfigError("a file exchange needs --url PATH (a te or hma signal file)")
        self.path = url.removeprefix("file://")
        self._read = reader or (lambda p: Path(p).read_text(encoding="utf-8-sig"))

    def fetch_page(self, checkpoint: dict[str, Any]) -> Page:
        from gardefou.banks.formats import detect_format, parse_all

        try:
            text = self._read(self.path)
        except (OSError, UnicodeDecodeError) as exc:
            raise ExchangeError(f"cannot read exchange file {self.path!r}: {exc}") from None
        digest = hashlib.sha256(text.encode()).hexdigest()
        if digest == checkpoint.get("sha256"):
            return Page([], dict(checkpoint), False)
        try:
            pdq, other = parse_all(text, detect_format(self.path, text))
        except BankError as exc:
            raise ExchangeError(f"exchange file {self.path!r} is malformed: {exc}") from None
        records = [Record("pdq", r["pdq"], False, {"line": r["line"]}) for r in pdq]
        records += [Record(o["signal_type"], o["value"], False, {"line": o["line"]}) for o in other]
        return Page(records, {"sha256": digest}, False, snapshot=True)
