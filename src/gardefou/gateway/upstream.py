"""The generator behind the gateway: an OpenAI-compatible HTTP server or a Python callable.

Both answer ``generate(ImageRequest) -> UpstreamResult`` (the image bytes, nothing checked yet)
or raise ``UpstreamError`` (502) / ``UpstreamTimeoutError`` (504). The HTTP client retries
connection failures, 429 and 5xx within one overall deadline, honouring ``Retry-After``; it
reads the answer as a stream and stops at ``max_bytes`` so a runaway upstream cannot exhaust
memory. Nothing here decides what is returned to the client: that is the service's job.
"""

from __future__ import annotations

import base64
import binascii
import concurrent.futures
import email.utils
import http.cookiejar
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from gardefou.errors import UpstreamError, UpstreamTimeoutError

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
File = tuple[str, bytes, str]  # (filename, bytes, content type)


@dataclass(frozen=True)
class ImageRequest:
    kind: str  # "generations" or "edits"
    prompt: str
    params: Mapping[str, Any] = field(default_factory=dict)  # n, size, model, user, quality...
    images: tuple[File, ...] = ()
    mask: File | None = None


@dataclass
class UpstreamResult:
    images: list[bytes]
    revised_prompts: list[str | None] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # usage, size, output_format, ...
    latency_s: float = 0.0


class Upstream(Protocol):
    name: str

    def generate(self, request: ImageRequest) -> UpstreamResult: ...


def parse_openai_images(body: Any, fetch: Callable[[str], bytes] | None = None) -> UpstreamResult:
    """An OpenAI ``ImagesResponse`` dict -> images; UpstreamError names what is malformed."""
    if not isinstance(body, Mapping) or not isinstance(body.get("data"), list):
        raise UpstreamError(
            "the upstream's answer has no `data` list; it does not speak the OpenAI Images API"
        )
    images: list[bytes] = []
    revised: list[str | None] = []
    for i, item in enumerate(body["data"]):
        if not isinstance(item, Mapping):
            raise UpstreamError(f"the upstream's data[{i}] is not an object")
        if isinstance(item.get("b64_json"), str):
            try:
                images.append(base64.b64decode(item["b64_json"], validate=True))
            except (binascii.Error, ValueError):
                raise UpstreamError(f"the upstream's data[{i}].b64_json is not base64") from None
        elif isinstance(item.get("url"), str) and fetch is not None:
            images.append(fetch(item["url"]))
        else:
            raise UpstreamError(f"the upstream's data[{i}] has neither b64_json nor a url")
        rp = item.get("revised_prompt")
        revised.append(rp if isinstance(rp, str) else None)
    if not images:
        raise UpstreamError("the upstream answered with no image")
    extra = {k: v for k, v in body.items() if k not in ("data", "created")}
    return UpstreamResult(images, revised, extra)


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP date (RFC 9110 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class HTTPUpstream:
    """An OpenAI-compatible Images API at ``base_url`` (the URL a client's base_url would be)."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        timeout_s: float = 120.0,
        connect_timeout_s: float = 5.0,
        retries: int = 2,
        max_retry_after_s: float = 30.0,
        max_bytes: int = 200 * 2**20,
        response_format: str | None = None,
        transport: Any = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        import httpx

        self.name = base_url
        self.base_url = base_url.rstrip("/")
        self.timeout_s, self.connect_timeout_s = timeout_s, connect_timeout_s
        self.retries, self.max_retry_after_s = retries, max_retry_after_s
        self.max_bytes, self.response_format = max_bytes, response_format
        self._sleep = sleep
        # per request, not on the client: an image url the upstream returns may be on another
        # host (a storage bucket), which must never see the upstream key
        self._auth = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        # one pooled client serves every user: it keeps no cookie, so nothing one answer sets
        # rides along on the next user's request
        no_cookies = http.cookiejar.CookieJar(
            http.cookiejar.DefaultCookiePolicy(allowed_domains=[])
        )
        self._client = httpx.Client(transport=transport, follow_redirects=False, cookies=no_cookies)

    def close(self) -> None:
        self._client.close()

    def generate(self, request: ImageRequest) -> UpstreamResult:
        start = time.monotonic()
        deadline = start + self.timeout_s
        params = dict(request.params)
        if self.response_format:
            params["response_format"] = self.response_format
        url = f"{self.base_url}/images/{request.kind}"
        status, body = self._send_with_retries(url, request, params, deadline)
        try:
            data = json.loads(body)
        except ValueError:
            raise UpstreamError(
                f"the upstream answered HTTP {status} with {len(body):,} bytes that are not "
                f"JSON (starting {body[:40]!r}); check that {self.base_url} is an Images API"
            ) from None
        result = parse_openai_images(data, lambda u: self._fetch(u, deadline))
        result.latency_s = time.monotonic() - start
        return result

    def _timeout(self, deadline: float) -> Any:
        import httpx

        left = deadline - time.monotonic()
        if left <= 0:
            raise UpstreamTimeoutError(
                f"the upstream did not answer within {self.timeout_s:g} s (retries included)"
            )
        return httpx.Timeout(left, connect=min(left, self.connect_timeout_s))

    def _send_with_retries(
        self, url: str, request: ImageRequest, params: dict[str, Any], deadline: float
    ) -> tuple[int, bytes]:
        import httpx

        last = ""
        for attempt in range(self.retries + 1):
            wait: float | None = None
            try:
                status, headers, body = self._send_once(url, request, params, deadline)
            except httpx.TimeoutException as exc:
                if isinstance(exc, httpx.ConnectTimeout) and attempt < self.retries:
                    last, wait = f"connection timed out ({exc})", 0.5 * 2**attempt
                else:
                    raise UpstreamTimeoutError(
                        f"the upstream {self.base_url} did not answer within "
                        f"{self.timeout_s:g} s; no image was returned"
                    ) from None
            except httpx.TransportError as exc:
                last, wait = f"cannot reach the upstream {self.base_url} ({exc})", 0.5 * 2**attempt
            else:
                if status < 300:
                    return status, body
                if status not in RETRY_STATUSES:
                    raise _rejected(status, body)
                last = f"the upstream answered HTTP {status}{_message(body)}"
                wait = retry_after_seconds(headers.get("retry-after"))
                if wait is None:
                    wait = 0.5 * 2**attempt
                elif wait > self.max_retry_after_s:
                    raise UpstreamError(
                        f"{last} and asks to retry after {wait:.0f} s (more "
                        f"than the {self.max_retry_after_s:g} s the gateway "
                        "waits); try again later"
                    )
            if attempt == self.retries:
                break
            if time.monotonic() + wait >= deadline:
                raise UpstreamTimeoutError(
                    f"{last}; no time left to retry within {self.timeout_s:g} s"
                )
            self._sleep(wait)
        raise UpstreamError(f"{last} (after {self.retries + 1} attempts); no image was returned")

    def _send_once(
        self, url: str, request: ImageRequest, params: dict[str, Any], deadline: float
    ) -> tuple[int, Mapping[str, str], bytes]:
        kwargs: dict[str, Any] = {"timeout": self._timeout(deadline), "headers": self._auth}
        if request.kind == "edits":
            key = "image[]" if len(request.images) > 1 else "image"
            files = [(key, f) for f in request.images]
            if request.mask is not None:
                files.append(("mask", request.mask))
            kwargs["files"] = files
            kwargs["data"] = {"prompt": request.prompt, **{k: _form(v) for k, v in params.items()}}
        else:
            kwargs["json"] = {"prompt": request.prompt, **params}
        with self._client.stream("POST", url, **kwargs) as resp:
            return resp.status_code, resp.headers, self._read(resp)

    def _read(self, resp: Any) -> bytes:
        declared = resp.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            raise UpstreamError(
                f"the upstream's answer of {int(declared):,} bytes is over the "
                f"gateway's limit of {self.max_bytes:,} bytes"
            )
        chunks, size = [], 0
        for chunk in resp.iter_bytes():
            size += len(chunk)
            if size > self.max_bytes:
                raise UpstreamError(
                    f"the upstream's answer is over the gateway's limit of {self.max_bytes:,} bytes"
                )
            chunks.append(chunk)
        return b"".join(chunks)

    def _fetch(self, url: str, deadline: float) -> bytes:
        import httpx

        if not url.startswith(("http://", "https://")):
            raise UpstreamError(f"the upstream returned an image url {url[:80]!r} that is not http")
        try:
            with self._client.stream("GET", url, timeout=self._timeout(deadline)) as resp:
                if resp.status_code != 200:
                    raise UpstreamError(
                        f"fetching the upstream's image url gave HTTP {resp.status_code}"
                    )
                return self._read(resp)
        except httpx.TimeoutException:
            raise UpstreamTimeoutError("fetching the upstream's image url timed out") from None
        except httpx.TransportError as exc:
            raise UpstreamError(f"cannot fetch the upstream's image url ({exc})") from None


def _form(v: Any) -> str:
    return json.dumps(v) if isinstance(v, bool | dict | list) or v is None else str(v)


def _message(body: bytes) -> str:
    try:
        doc = json.loads(body)
        err = doc.get("error") or doc.get("detail")
        msg = err.get("message") if isinstance(err, Mapping) else err
        return f": {str(msg)[:300]}" if msg else ""
    except (ValueError, AttributeError):
        return ""


def _rejected(status: int, body: bytes) -> UpstreamError:
    """A 4xx of the upstream: the client's request problem passes through (400, 404, 413...),
    but the gateway's own credentials being refused (401/403) is the operator's problem: 502."""
    exc = UpstreamError(f"the upstream refused the request with HTTP {status}{_message(body)}")
    if status not in (401, 403, 407):
        exc.http_status = status
        try:
            err = json.loads(body).get("error")
            exc.upstream_error = dict(err) if isinstance(err, Mapping) else None  # type: ignore[attr-defined]
        except (ValueError, AttributeError):
            pass
    else:
        exc.args = (
            f"the upstream refused the gateway's credentials (HTTP {status}); the "
            "operator should check the upstream key",
        )
    return exc


class CallableUpstream:
    """An in-process generator: ``fn(ImageRequest)`` returns image bytes (a list), an
    ``UpstreamResult`` or an OpenAI-shaped dict. It runs in a worker thread bounded by
    ``timeout_s`` (a generator that overruns is abandoned, its result discarded)."""

    def __init__(
        self,
        fn: Callable[[ImageRequest], Any],
        *,
        name: str = "in-process generator",
        timeout_s: float = 120.0,
        workers: int = 4,
    ) -> None:
        self.fn, self.name, self.timeout_s = fn, name, timeout_s
        self._pool = concurrent.futures.ThreadPoolExecutor(workers, "gardefou-gen")

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def generate(self, request: ImageRequest) -> UpstreamResult:
        start = time.monotonic()
        future = self._pool.submit(self.fn, request)
        try:
            out = future.result(timeout=self.timeout_s)
        except concurrent.futures.TimeoutError:
            raise UpstreamTimeoutError(
                f"the {self.name} did not answer within {self.timeout_s:g} s"
            ) from None
        except Exception as exc:  # noqa: BLE001 - any generator failure is an upstream error
            raise UpstreamError(
                f"the {self.name} failed: {type(exc).__name__}: {str(exc)[:300]}"
            ) from None
        if isinstance(out, UpstreamResult):
            result = out
        elif isinstance(out, Mapping):
            result = parse_openai_images(out)
        elif isinstance(out, list | tuple) and all(isinstance(x, bytes) for x in out) and out:
            result = UpstreamResult(list(out), [None] * len(out))
        else:
            raise UpstreamError(
                f"the {self.name} returned {type(out).__name__}; return a list "
                "of image bytes, an UpstreamResult or an ImagesResponse dict"
            )
        result.latency_s = time.monotonic() - start
        return result
