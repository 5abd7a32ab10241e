"""Settings of the ingest service."""

from __future__ import annotations

from vigie.settings import CommonSettings


class IngestSettings(CommonSettings):
    """Ingest: HTTP address, public links, request limits."""

    listeners = (("ingest_host", None), ("ingest_metrics_host", "ingest_metrics_port"))

    ingest_host: str = "127.0.0.1"
    ingest_port: int = 8000
    # Where reporters follow their report (the registry's public status page).
    registry_public_url: str = "http://127.0.0.1:8001"
    # Where ingest asks the registry who a bearer token belongs to.
    registry_internal_url: str = "http://127.0.0.1:8001"
    ingest_max_body_bytes: int = 64 * 1024
    # A telemetry window carries score and feature samples: larger than a report.
    ingest_max_telemetry_bytes: int = 4 * 1024 * 1024
    ingest_idempotency_entries: int = 100_000
    # How long a submission nonce (the form's, or one an anonymous API client asked for) is
    # accepted: a form left open this long is sent again with a fresh one.
    ingest_submission_nonce_ttl_s: float = 24 * 3600.0
    ingest_kafka_timeout_s: float = 10.0
    # Submissions (form and REST) per client address, moving windows in `limits` notation;
    # empty means no limit. Behind a proxy, uvicorn's --forwarded-allow-ips gives the address.
    ingest_rate_limit: str = "20/minute;200/hour"
    # Prometheus metrics are served on their own listener, not on the public port (0: none).
    ingest_metrics_host: str = "127.0.0.1"
    ingest_metrics_port: int = 8003
