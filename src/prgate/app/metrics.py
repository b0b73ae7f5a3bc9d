"""The App's Prometheus metrics, in a registry of its own (one per app instance)."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from prgate.llm.session import LlmUsage


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

        self.queue_depth = Gauge(
            "prgate_queue_depth",
            "Jobs waiting in the queue (deliveries get 503 past PRGATE_QUEUE_LIMIT)",
            registry=self.registry,
        )
        self.draining = Gauge(
            "prgate_draining",
            "1 while the process is shutting down (deliveries get 503), else 0",
            registry=self.registry,
        )
        self.reconciled = Counter(
            "prgate_reconciled",
            "Work the reconcilers found missing: heads queued, deliveries asked for again",
            ["kind"],
            registry=self.registry,
        )
        self.llm_tokens = Counter(
            "prgate_llm_tokens",
            "Tokens used by the AI reviewer, by direction (input, output)",
            ["direction"],
            registry=self.registry,
        )
        self.llm_usd = Counter(
            "prgate_llm_estimated_usd",
            "Estimated cost of the AI reviewer's requests, in US dollars",
            registry=self.registry,
        )
        self.llm_requests = Counter(
            "prgate_llm_requests",
            "Requests to the AI service by outcome (ok, invalid_answer, timeout, rate_limited, ...)",
            ["outcome"],
            registry=self.registry,
        )
        self.llm_cache_hits = Counter(
            "prgate_llm_cache_hits",
            "Files whose AI review was answered from the cache",
            registry=self.registry,
        )

    def observe_llm(self, usage: LlmUsage) -> None:
        self.llm_tokens.labels(direction="input").inc(usage.input_tokens)
        self.llm_tokens.labels(direction="output").inc(usage.output_tokens)
        self.llm_usd.inc(usage.usd)
        for outcome, n in usage.outcomes.items():
            self.llm_requests.labels(outcome=outcome).inc(n)
        self.llm_cache_hits.inc(usage.cached)

    def observe_api_call(self, method: str, status: int) -> None:
        self.api_calls.labels(method=method, status=str(status)).inc()

    def render(self, job_counts: Callable[[], dict[str, int]] | None = None) -> bytes:
        if job_counts is not None:
            counts = job_counts()
            for state, n in counts.items():
                self.jobs.labels(state=state).set(n)
            self.queue_depth.set(counts.get("queued", 0))
        return generate_latest(self.registry)
