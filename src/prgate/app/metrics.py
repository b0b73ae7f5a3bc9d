"""The App's Prometheus metrics, in a registry of its own (one per app instance)."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.deliveries = Counter(
            "prgate_webhook_deliveries",
            "Webhook deliveries by event and outcome",
            ["event", "outcome"],
            registry=self.registry,
        )
        self.jobs = Gauge("prgate_jobs", "Jobs by state", ["state"], registry=self.registry)
        self.job_results = Counter(
            "prgate_job_results",
            "Finished job runs by kind and result",
            ["kind", "result"],
            registry=self.registry,
        )
        self.evaluation_seconds = Histogram(
            "prgate_evaluation_seconds",
            "Time spent judging one pull request (fetch, config, evaluate, publish)",
            buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120),
            registry=self.registry,
        )
        self.api_calls = Counter(
            "prgate_github_api_calls",
            "Calls to GitHub's API by method and status (0: no answer)",
            ["method", "status"],
            registry=self.registry,
        )
        self.conclusions = Counter(
            "prgate_conclusions",
            "Check run conclusions",
            ["conclusion"],
            registry=self.registry,
        )

    def observe_api_call(self, method: str, status: int) -> None:
        self.api_calls.labels(method=method, status=str(status)).inc()

    def render(self, job_counts: Callable[[], dict[str, int]] | None = None) -> bytes:
        if job_counts is not None:
            for state, n in job_counts().items():
                self.jobs.labels(state=state).set(n)
        return generate_latest(self.registry)
