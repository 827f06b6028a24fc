"""Prometheus metrics on a registry owned by one app (no process-wide globals).

Labels are bounded and never carry note text or ids: the route *template* ("/v1/scans/{scan_id}", or "unmatched"),
the method, the status code, the decision, and finding kind/category/severity from the closed lists of CONTRACT §2.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from notecheck.report import Report

LATENCY_BUCKETS = (0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0)
METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        ProcessCollector(registry=r)
        self.requests = Counter(
            "notecheck_http_requests", "HTTP requests handled.", ["method", "route", "status"], registry=r
        )
        self.latency = Histogram(
            "notecheck_http_request_seconds",
            "Time to answer an HTTP request.",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.in_progress = Gauge("notecheck_http_requests_in_progress", "Requests being handled.", registry=r)
        self.check_seconds = Histogram(
            "notecheck_check_seconds", "Time in the checker per note.", ["route"], buckets=LATENCY_BUCKETS, registry=r
        )
        self.decisions = Counter("notecheck_decisions", "Reports by decision.", ["route", "decision"], registry=r)
        self.findings = Counter(
            "notecheck_findings", "Findings reported.", ["route", "kind", "category", "severity"], registry=r
        )
        self.gate_blocks = Counter("notecheck_gate_blocks", "Notes the gate refused (422).", registry=r)
        self.gate_overrides = Counter(
            "notecheck_gate_overrides", "Blocked notes let through by a reviewer or admin override.", registry=r
        )
        self.auth_failures = Counter(
            "notecheck_auth_failures", "Requests refused by authentication or role.", ["reason"], registry=r
        )
        self.key_cache = Counter("notecheck_key_cache", "API key cache lookups.", ["result"], registry=r)
        self.scans_started = Counter("notecheck_scans_started", "Bulk scans started over HTTP.", registry=r)
        self.body_rejected = Counter(
            "notecheck_request_body_rejected", "Request bodies refused for size before parsing.", registry=r
        )

    def observe_report(self, route: str, report: Report, seconds: float) -> None:
        self.check_seconds.labels(route=route).observe(seconds)
        self.decisions.labels(route=route, decision=report.decision).inc()
        for finding in report.findings:
            self.findings.labels(
                route=route, kind=finding.kind, category=finding.category, severity=finding.severity
            ).inc()

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        method = method if method in METHODS else "OTHER"
        self.requests.labels(method=method, route=route, status=str(status)).inc()
        self.latency.labels(method=method, route=route).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
