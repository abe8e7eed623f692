"""The events gardefou decides on: posts (with reply threads) and generation events.

JSON forms (one object per line in a JSONL stream)::

    {"id": "p2", "kind": "post", "author": "u7", "created_at": "2026-01-05T10:00:00Z",
     "text": "@imgbot put her in a bikini", "media": ["photos/a.jpg"], "reply_to": "p1",
     "mentions": ["imgbot"], "lang": "en"}
    {"id": "g9", "kind": "generation", "request": "make her dress red", "requester": "u7",
     "input_media": [{"path": "in.jpg"}], "output_media": [{"b64": "..."}], "reply_to": "p2"}

A media reference is a path (relative to the stream's folder), ``{"path": ...}`` or
``{"b64": ...}``; URLs are never fetched. ``MediaRef.load`` decodes it under the intake's limits
(an image, or a probed clip): the one loader of every runner and of ``decide_event``. ``kind``
defaults to "generation" when the object has ``output_media``. Malformed events raise
PipelineEventError (the runners dead-letter them) naming the field, the bad value and the fix.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gardefou.errors import FieldTooLongError, MediaUnreadableError, PipelineEventError
from gardefou.media import Limits
from gardefou.media.video_items import load_item

MAX_ID = 200
MAX_TEXT = 100_000
MAX_MEDIA = 32
_MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9_][A-Za-z0-9_.-]{0,63})")


#: the role of each media field: what is judged ("media", "output") or compared ("input")
ROLES = {"media": "media", "input_media": "input", "output_media": "output"}


@dataclass(frozen=True)
class MediaRef:
    """Where one image or clip of an event is: a path, or inline bytes. Never a URL.
    ``role``: "media" (a post's), "input" or "output" (a generation's)."""

    label: str
    path: str | None = None
    data: bytes | None = None
    role: str = "media"

    def resolve(self, base_dir: Path | None = None) -> str | bytes:
        if self.data is not None:
            return self.data
        assert self.path is not None
        p = Path(self.path)
        return str(base_dir / p if base_dir is not None and not p.is_absolute() else p)

    def load(self, limits: Limits, base_dir: Path | None = None, video_limits: Any = None) -> Any:
        """The decoded image (``Media``) or probed clip (``media.video.Video``), under
        ``limits``; raises the intake's MediaError (a missing file: MediaUnreadableError)."""
        where = self.resolve(base_dir)
        if isinstance(where, str) and not Path(where).exists():
            raise MediaUnreadableError(
                f"{self.label}: media file {where!r} does not exist; paths in an event are "
                "relative to the JSONL file's folder"
            )
        return load_item(where, limits, video_limits, label=self.label)


@dataclass(frozen=True)
class Post:
    id: str
    author: str | None = None
    created_at: datetime | None = None
    text: str = ""
    media: tuple[MediaRef, ...] = ()
    reply_to: str | None = None
    mentions: tuple[str, ...] = ()
    lang: str | None = None

    kind = "post"

    @property
    def actor(self) -> str | None:
        """The account accountable for the content."""
        return self.author

    @property
    def media_refs(self) -> tuple[MediaRef, ...]:
        return self.media


@dataclass(frozen=True)
class GenerationEvent:
    """An image generation or edit: the request, its inputs, the outputs, who asked."""

    id: str
    request: str = ""
    input_media: tuple[MediaRef, ...] = ()
    output_media: tuple[MediaRef, ...] = ()
    requester: str | None = None
    created_at: datetime | None = None
    reply_to: str | None = None  # the post the generation answers, when it is in a thread
    lang: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    kind = "generation"

    @property
    def actor(self) -> str | None:
        return self.requester

    @property
    def media_refs(self) -> tuple[MediaRef, ...]:
        """The inputs, then the outputs."""
        return self.input_media + self.output_media


Event = Post | GenerationEvent


def mentions_in(text: str) -> tuple[str, ...]:
    """@handles in a text, lower-cased, in order, without duplicates."""
    return tuple(dict.fromkeys(m.lower() for m in _MENTION.findall(text or "")))


def _fail(eid: str, msg: str) -> PipelineEventError:
    return PipelineEventError(f"event {eid}: {msg}")


def _str(obj: dict[str, Any], key: str, eid: str, limit: int, required: bool = False) -> str | None:
    v = obj.get(key)
    if v is None:
        if required:
            raise _fail(eid, f"missing required field {key!r}")
        return None
    if isinstance(v, bool) or not isinstance(v, str | int):
        raise _fail(eid, f"{key!r} must be a string, got {type(v).__name__} {str(v)[:60]!r}")
    s = str(v)
    if len(s) > limit:
        raise FieldTooLongError(
            f"event {eid}: {key!r} is {len(s)} characters; the limit is {limit}"
        )
    return s


def _time(v: Any, eid: str) -> datetime | None:
    if v is None:
        return None
    if isinstance(v, int | float) and not isinstance(v, bool):
        return datetime.fromtimestamp(float(v), UTC)
    if isinstance(v, str):
        try:
            t = datetime.fromisoformat(v.replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            return t if t.tzinfo else t.replace(tzinfo=UTC)
    raise _fail(
        eid,
        f"created_at {str(v)[:60]!r} is not an ISO 8601 time "
        "(e.g. 2026-01-05T10:00:00Z) or a Unix timestamp",
    )


def _media(obj: dict[str, Any], key: str, eid: str) -> tuple[MediaRef, ...]:
    items = obj.get(key) or []
    if isinstance(items, str | dict):
        items = [items]
    if not isinstance(items, list):
        raise _fail(eid, f"{key!r} must be a list of media references")
    if len(items) > MAX_MEDIA:
        raise _fail(eid, f"{key!r} has {len(items)} items; the limit is {MAX_MEDIA}")
    out = []
    role = ROLES[key]
    for i, item in enumerate(items):
        label = f"{eid}/{key}[{i}]"
        if isinstance(item, str) and item:
            out.append(MediaRef(label, path=item, role=role))
        elif isinstance(item, dict) and isinstance(item.get("path"), str):
            out.append(MediaRef(label, path=item["path"], role=role))
        elif isinstance(item, dict) and isinstance(item.get("b64") or item.get("data_b64"), str):
            try:
                data = base64.b64decode(item.get("b64") or item["data_b64"], validate=True)
            except (binascii.Error, ValueError) as exc:
                raise _fail(eid, f"{label}: 'b64' is not valid base64 ({exc})") from None
            out.append(MediaRef(label, data=data, role=role))
        elif isinstance(item, dict) and "url" in item:
            raise _fail(
                eid,
                f"{label}: URLs are not fetched ({str(item['url'])[:80]!r}); "
                "download the file and pass 'path', or inline it as 'b64'",
            )
        else:
            raise _fail(
                eid,
                f"{label}: a media reference is a path string or an object with "
                f"'path' or 'b64', got {str(item)[:80]!r}",
            )
    return tuple(out)


def parse_event(obj: Any) -> Event:
    """A Post or GenerationEvent from its JSON object."""
    if not isinstance(obj, dict):
        raise PipelineEventError(f"an event must be a JSON object, got {type(obj).__name__}")
    raw = obj.get("id")
    if raw is None or isinstance(raw, bool) or not isinstance(raw, str | int) or raw == "":
        raise PipelineEventError(
            f"event has no usable 'id' (got {raw!r}); every event needs a unique string id"
        )
    eid = str(raw)
    if len(eid) > MAX_ID:
        raise PipelineEventError(f"event id of {len(eid)} characters is over {MAX_ID}")
    kind = obj.get("kind") or ("generation" if "output_media" in obj else "post")
    created = _time(obj.get("created_at"), eid)
    lang = _str(obj, "lang", eid, 16)
    reply_to = _str(obj, "reply_to", eid, MAX_ID)
    if kind == "post":
        text = _str(obj, "text", eid, MAX_TEXT) or ""
        raw_mentions = obj.get("mentions") or []
        if not isinstance(raw_mentions, list) or not all(isinstance(m, str) for m in raw_mentions):
            raise _fail(eid, f"'mentions' must be a list of handles, got {raw_mentions!r}"[:200])
        # the platform's list plus the @handles in the text (an empty list adds nothing)
        explicit = (m.lstrip("@").lower() for m in raw_mentions if m)
        mentions = tuple(dict.fromkeys([*explicit, *mentions_in(text)]))
        return Post(
            id=eid,
            author=_str(obj, "author", eid, MAX_ID),
            created_at=created,
            text=text,
            media=_media(obj, "media", eid),
            reply_to=reply_to,
            mentions=mentions,
            lang=lang,
        )
    if kind == "generation":
        known = {
            "id",
            "kind",
            "request",
            "input_media",
            "output_media",
            "requester",
            "created_at",
            "reply_to",
            "lang",
        }
        return GenerationEvent(
            id=eid,
            request=_str(obj, "request", eid, MAX_TEXT) or "",
            input_media=_media(obj, "input_media", eid),
            output_media=_media(obj, "output_media", eid),
            requester=_str(obj, "requester", eid, MAX_ID),
            created_at=created,
            reply_to=reply_to,
            lang=lang,
            extra={k: v for k, v in obj.items() if k not in known},
        )
    raise _fail(eid, f"unknown kind {kind!r}; use 'post' or 'generation'")


def parse_json(text: str | bytes) -> Event:
    try:
        obj = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise PipelineEventError(f"event is not valid JSON: {exc}") from None
    return parse_event(obj)


def iter_jsonl(path: str | Path) -> Iterator[tuple[int, Event | PipelineEventError]]:
    """(line number, event or the error that line raised): one bad line never stops the rest."""
    with open(path, encoding="utf-8", errors="replace") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                yield n, parse_json(line)
            except PipelineEventError as exc:
                yield n, PipelineEventError(f"{path}:{n}: {exc}")
