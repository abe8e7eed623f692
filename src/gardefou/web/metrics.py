"""``/metrics`` of ``gardefou serve``: Prometheus text, as the gateway's (gateway/metrics.py: its
own registry, its latency buckets, labels that carry codes, never user ids, paths or prompts).

- ``gardefou_http_request_duration_seconds{method, route, status}``: a histogram by route
  *template* (``/v1/cases/{case_id}``, never the raw path: bounded cardinality); ``unmatched``
  for paths no route serves.
- ``gardefou_http_rejections_total{reason}``: 4xx/5xx answers by the error code of the body
  (``rate_limited``, ``media_too_large``, ``unauthorized``, ``validation``, ...).
- ``gardefou_takedowns_open{state}``: open takedown requests by deadline state (``ok``,
  ``due_soon``, ``breached``), read from the store at scrape time.
- ``gardefou_bank_index_hashes``: hashes in the bank index this worker matches against.

Several workers (``serve --workers N``): counters and histograms go through prometheus_client's
multiprocess mode, in a directory ``serve`` makes for the run (PROMETHEUS_MULTIPROC_DIR, set
before the workers start and removed after); any worker's ``/metrics`` sums them all. Values
read from the store at scrape time are the same from every worker. Nothing here touches
prometheus_client's process-global registry.

Access (GARDEFOU_METRICS): ``off`` (default: 404), ``local`` (clients on the loopback only, no
key: a Prometheus on the same host), ``key`` (an admin or auditor API key, ``X-API-Key`` or
``Authorization: Bearer``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from fastapi import Request, Response

from gardefou.gateway.metrics import LATENCY_BUCKETS

log = logging.getLogger("gardefou.web")

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

#: reason of a rejection that no exception handler named (the framework's own answers)
_STATUS_REASONS = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "media_too_large",
    500: "internal",
}
#: where the exception handlers leave the error code for the middleware
REASON_KEY = "gardefou.reject_reason"


class ServiceMetrics:
    """The service's counters (in this process, or shared through the multiprocess directory)
    and the collectors that read the store when scraped."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self.multiprocess_dir = os.environ.get(MULTIPROC_ENV) or None
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Histogram(
            "gardefou_http_request_duration_seconds",
            "HTTP requests by method, route template and status, with their latency",
            ["method", "route", "status"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.rejections = Counter(
            "gardefou_http_rejections",
            "Requests answered with an error, by the error code of the answer",
            ["reason"],
            registry=self.registry,
        )
        self._state: list[Callable[[], Iterator[Any]]] = []

    def add_state(self, collect: Callable[[], Iterator[Any]]) -> None:
        """A function yielding metric families read at scrape time (the store, the index)."""
        self._state.append(collect)

    def observe(self, method: str, route: str, status: int, seconds: float, reason: str) -> None:
        self.requests.labels(method, route, str(status)).observe(seconds)
        if status >= 400:
            self.rejections.labels(reason or _STATUS_REASONS.get(status, f"http_{status}")).inc()

    def render(self) -> tuple[bytes, str]:
        from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

        registry = CollectorRegistry(auto_describe=False)
        if self.multiprocess_dir:
            from prometheus_client.multiprocess import MultiProcessCollector

            MultiProcessCollector(registry, path=self.multiprocess_dir)
        else:
            registry.register(_Forward(self.registry.collect))
        registry.register(_Forward(self._collect_state))
        return generate_latest(registry), CONTENT_TYPE_LATEST

    def _collect_state(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        failed = GaugeMetricFamily(
            "gardefou_metrics_collect_failed",
            "1 when a value read at scrape time could not be read (see the service log)",
            labels=["collector"],
        )
        for collect in self._state:
            name = getattr(collect, "__name__", "state")
            try:
                families = list(collect())
            except Exception:  # one failed reading must not blank /metrics (logged, flagged)
                log.exception("metrics collector %s failed", name)
                failed.add_metric([name], 1)
                continue
            failed.add_metric([name], 0)
            yield from families
        yield failed


class _Forward:
    """A collector that yields what a function yields (prometheus_client's collector shape)."""

    def __init__(self, collect: Callable[[], Iterable[Any]]) -> None:
        self.collect = collect


def store_collectors(services: Any) -> list[Callable[[], Iterator[Any]]]:
    """Takedown deadlines and the bank index size, read when scraped."""

    def takedowns() -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        states = {"ok": 0, "due_soon": 0, "breached": 0}
        now = services.takedown.clock()
        for request in services.takedown.queue(limit=None):
            state = request.clock(now)["state"]
            states[state] = states.get(state, 0) + 1
        family = GaugeMetricFamily(
            "gardefou_takedowns_open",
            "Open takedown requests by deadline state (due_soon: in the last part of the "
            "window; breached: past the deadline)",
            labels=["state"],
        )
        for state, n in sorted(states.items()):
            family.add_metric([state], n)
        yield family

    def bank_index() -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        live = services.banks().index
        live.refresh()
        yield GaugeMetricFamily(
            "gardefou_bank_index_hashes",
            "PDQ hashes in the bank index this worker matches against",
            value=len(live.index),
        )

    return [takedowns, bank_index]


class MetricsMiddleware:
    """Times every request and counts its status by route template (pure ASGI: it sees the
    answers of the body-size limit and of the exception handlers too)."""

    def __init__(self, app: Any, metrics: ServiceMetrics, openapi: Callable[[], Any]) -> None:
        self.app = app
        self.metrics = metrics
        self.app_openapi = openapi
        self._templates: list[tuple[Any, str]] | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        root = scope.get("root_path", "")
        status = 500  # an exception that escapes everything is answered 500 by the server

        async def tracking_send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        finally:
            self.metrics.observe(
                scope.get("method", "?"),
                self._template(scope, root),
                status,
                time.perf_counter() - started,
                str(scope.get(REASON_KEY, "")),
            )

    def _template(self, scope: dict[str, Any], root: str) -> str:
        from starlette.routing import Mount

        route = scope.get("route")
        if route is None:  # answered before routing (413): find the route it was meant for
            return self._documented(str(scope.get("path", "")))
        prefix = str(scope.get("root_path", ""))[len(root) :]
        if isinstance(route, Mount):  # a mounted app without routes of its own (static files)
            return (prefix or route.path) + "/{path}"
        return prefix + str(getattr(route, "path", "")) or "unmatched"

    def _documented(self, path: str) -> str:
        """The OpenAPI path template that ``path`` falls under, else ``unmatched``."""
        if self._templates is None:
            from starlette.routing import compile_path

            try:
                paths = self.app_openapi()["paths"]
            except Exception:  # noqa: BLE001 - a label is not worth failing a request over
                paths = {}
            self._templates = [(compile_path(t)[0], t) for t in paths]
        for regex, template in self._templates:
            if regex.match(path):
                return template
        return "unmatched"


def mount_metrics(app: Any, services: Any) -> ServiceMetrics | None:
    """Serve ``/metrics`` on ``app`` as GARDEFOU_METRICS says; None (and no middleware, no
    cost per request) when it is off."""
    mode = services.settings.metrics
    if mode == "off":
        return None
    from fastapi import Depends

    from gardefou.web.auth import Role
    from gardefou.web.deps import require

    metrics = ServiceMetrics()
    for collect in store_collectors(services):
        metrics.add_state(collect)
    app.state.metrics = metrics
    app.add_middleware(MetricsMiddleware, metrics=metrics, openapi=app.openapi)
    guard = [Depends(require(Role.AUDITOR))] if mode == "key" else []

    @app.get("/metrics", include_in_schema=False, dependencies=guard)
    def prometheus(request: Request) -> Response:
        if mode == "local":
            _require_loopback(request)
        body, content_type = metrics.render()
        return Response(body, media_type=content_type)

    return metrics


def _require_loopback(request: Request) -> None:
    """GARDEFOU_METRICS=local: the peer must be on the loopback and not a proxy relaying someone
    else (a forwarding header means the real client is elsewhere)."""
    import ipaddress

    from gardefou.errors import ForbiddenError

    host = request.client.host if request.client else ""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    forwarded = "x-forwarded-for" in request.headers or "forwarded" in request.headers
    if not loopback or forwarded:
        raise ForbiddenError(
            f"/metrics is served to loopback clients only (GARDEFOU_METRICS=local; this request "
            f"came from {host or '?'}{' through a proxy' if forwarded else ''}); scrape from the "
            "host itself, or set GARDEFOU_METRICS=key and send an auditor API key"
        )


@contextlib.contextmanager
def per_run_directory(enabled: bool) -> Iterator[str | None]:
    """For ``serve --workers N``: a fresh, empty multiprocess directory for this run (inside
    $PROMETHEUS_MULTIPROC_DIR when set, else the temporary folder), named in the environment
    the workers inherit, and removed when the server stops (stale files of an earlier run
    would be summed into this one's counters)."""
    if not enabled:
        yield None
        return
    import shutil
    import tempfile

    parent = os.environ.get(MULTIPROC_ENV) or None
    if parent:
        os.makedirs(parent, exist_ok=True)
    folder = tempfile.mkdtemp(prefix="gardefou-metrics-", dir=parent)
    previous = os.environ.get(MULTIPROC_ENV)
    os.environ[MULTIPROC_ENV] = folder
    try:
        yield folder
    finally:
        if previous is None:
            os.environ.pop(MULTIPROC_ENV, None)
        else:
            os.environ[MULTIPROC_ENV] = previous
        shutil.rmtree(folder, ignore_errors=True)
