"""Per-stage metrics in the Prometheus text exposition format (version 0.0.4).

A tiny, dependency-free registry: counters, gauges and histograms with labels. Workers in other
processes send plain numbers back to the runner, which owns the registry; ``render()`` gives the
text a Prometheus server scrapes (``gardefou stream work --metrics-port``) or that ``gardefou
metrics`` prints.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

#: seconds; spans a PDQ-only event (~1 ms) to a full model stack on a busy core (~seconds)
LATENCY_BUCKETS: tuple[float, ...] = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
)

LabelKey = tuple[tuple[str, str], ...]


def _key(labels: dict[str, str] | None) -> LabelKey:
    return tuple(sorted((labels or {}).items()))


def _fmt_labels(key: LabelKey, extra: Sequence[tuple[str, str]] = ()) -> str:
    items = list(key) + list(extra)
    if not items:
        return ""
    body = ",".join(
        f'{k}="{v.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
        for k, v in items
    )
    return "{" + body + "}"


def _fmt_value(v: float) -> str:
    if v == float("inf"):
        return "+Inf"
    return repr(float(v)) if not float(v).is_integer() else str(int(v))


@dataclass
class _Histogram:
    buckets: tuple[float, ...]
    counts: list[int] = field(default_factory=list)
    total: float = 0.0
    n: int = 0

    def __post_init__(self) -> None:
        self.counts = [0] * len(self.buckets)

    def observe(self, value: float) -> None:
        self.n += 1
        self.total += value
        for i, upper in enumerate(self.buckets):
            if value <= upper:
                self.counts[i] += 1


class Metrics:
    """Thread-safe registry. Names follow Prometheus conventions (``gardefou_*``, ``_total``,
    ``_seconds``)."""

    def __init__(self, namespace: str = "gardefou") -> None:
        self.ns = namespace
        self._lock = threading.Lock()
        self._help: dict[str, tuple[str, str]] = {}
        self._counters: dict[str, dict[LabelKey, float]] = {}
        self._gauges: dict[str, dict[LabelKey, float]] = {}
        self._hists: dict[str, dict[LabelKey, _Histogram]] = {}
        self._buckets: dict[str, tuple[float, ...]] = {}

    def _declare(self, name: str, kind: str, help_text: str) -> str:
        full = f"{self.ns}_{name}"
        self._help.setdefault(full, (kind, help_text))
        return full

    def inc(
        self,
        name: str,
        help_text: str = "",
        labels: dict[str, str] | None = None,
        value: float = 1.0,
    ) -> None:
        with self._lock:
            full = self._declare(name, "counter", help_text)
            series = self._counters.setdefault(full, {})
            series[_key(labels)] = series.get(_key(labels), 0.0) + value

    def set(
        self, name: str, value: float, help_text: str = "", labels: dict[str, str] | None = None
    ) -> None:
        with self._lock:
            full = self._declare(name, "gauge", help_text)
            self._gauges.setdefault(full, {})[_key(labels)] = float(value)

    def observe(
        self,
        name: str,
        value: float,
        help_text: str = "",
        labels: dict[str, str] | None = None,
        buckets: tuple[float, ...] = LATENCY_BUCKETS,
    ) -> None:
        with self._lock:
            full = self._declare(name, "histogram", help_text)
            b = self._buckets.setdefault(full, buckets)
            series = self._hists.setdefault(full, {})
            hist = series.get(_key(labels))
            if hist is None:
                hist = series[_key(labels)] = _Histogram(b)
            hist.observe(value)

    def counter_value(self, name: str, labels: dict[str, str] | None = None) -> float:
        with self._lock:
            return self._counters.get(f"{self.ns}_{name}", {}).get(_key(labels), 0.0)

    def render(self) -> str:
        """The registry as Prometheus text (ends with a newline)."""
        out: list[str] = []
        with self._lock:
            for full, (kind, help_text) in sorted(self._help.items()):
                if help_text:
                    out.append(f"# HELP {full} {help_text}")
                out.append(f"# TYPE {full} {kind}")
                if kind == "counter":
                    for key, v in sorted(self._counters.get(full, {}).items()):
                        out.append(f"{full}{_fmt_labels(key)} {_fmt_value(v)}")
                elif kind == "gauge":
                    for key, v in sorted(self._gauges.get(full, {}).items()):
                        out.append(f"{full}{_fmt_labels(key)} {_fmt_value(v)}")
                else:
                    for key, h in sorted(self._hists.get(full, {}).items()):
                        out.extend(_render_hist(full, key, h))
        return "\n".join(out) + "\n"


def _render_hist(full: str, key: LabelKey, h: _Histogram) -> Iterable[str]:
    for upper, count in zip(h.buckets, h.counts, strict=True):
        yield f"{full}_bucket{_fmt_labels(key, [('le', _fmt_value(upper))])} {count}"
    yield f"{full}_bucket{_fmt_labels(key, [('le', '+Inf')])} {h.n}"
    yield f"{full}_sum{_fmt_labels(key)} {_fmt_value(h.total)}"
    yield f"{full}_count{_fmt_labels(key)} {h.n}"


def serve_metrics(metrics: Metrics, port: int, host: str = "127.0.0.1") -> object:
    """Serve ``GET /metrics`` from a daemon thread; returns the server (call ``shutdown()``)."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?")[0] != "/metrics":
                self.send_error(404, "only /metrics is served here")
                return
            body = metrics.render().encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True, name="metrics-http").start()
    return server
