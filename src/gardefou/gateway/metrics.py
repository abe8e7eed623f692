"""Prometheus metrics of one gateway, in its own registry (never the process-global one, so two
gateways in a process, or a test suite, do not collide). Labels carry codes, never user ids or
prompts."""

from __future__ import annotations

from typing import Any

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class GatewayMetrics:
    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "gardefou_gateway_requests",
            "Image requests by endpoint and outcome",
            ["endpoint", "outcome"],
            registry=self.registry,
        )
        self.refusals = Counter(
            "gardefou_gateway_refusals",
            "Refusals and withheld images by stage (request, output, sanction) and reason code",
            ["stage", "reason"],
            registry=self.registry,
        )
        self.images = Counter(
            "gardefou_gateway_images",
            "Images by fate (returned, withheld)",
            ["fate"],
            registry=self.registry,
        )
        self.upstream_latency = Histogram(
            "gardefou_gateway_upstream_latency_seconds",
            "Time spent waiting for the upstream generator",
            ["endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.added_latency = Histogram(
            "gardefou_gateway_added_latency_seconds",
            "Time the gateway adds: the request minus the upstream wait (checks, labels, audit)",
            ["endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.upstream_errors = Counter(
            "gardefou_gateway_upstream_errors",
            "Upstream failures by kind",
            ["kind"],
            registry=self.registry,
        )

    def render(self) -> tuple[bytes, str]:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return generate_latest(self.registry), CONTENT_TYPE_LATEST

    def value(self, name: str, **labels: Any) -> float:
        """A sample's current value (tests and the benchmark)."""
        got = self.registry.get_sample_value(name, labels)
        return float(got or 0.0)
