"""Settings of the ingest service."""

from __future__ import annotations

from pydantic import Field

from vigie.settings import CommonSettings


class IngestSettings(CommonSettings):
    """Ingest: HTTP address, public links, request limits."""

    listeners = (("ingest_host", None), ("ingest_metrics_host", "ingest_metrics_port"))

    ingest_host: str = Field(
        default="127.0.0.1",
        description="Address ingest's HTTP API listens on.",
    )
    ingest_port: int = Field(default=8000, description="Port of ingest's HTTP API.")
    registry_public_url: str = Field(
        default="http://127.0.0.1:8001",
        description="Where reporters follow their report (the registry's public status page).",
    )
    registry_internal_url: str = Field(
        default="http://127.0.0.1:8001",
        description="Where ingest asks the registry who a bearer token belongs to.",
    )
    ingest_max_body_bytes: int = Field(
        default=64 * 1024,
        description=(
            "Largest report request body accepted (bytes); larger ones are refused with 413 "
            "before parsing."
        ),
    )
    ingest_max_telemetry_bytes: int = Field(
        default=4 * 1024 * 1024,
        description=(
            "Largest telemetry window request body accepted (bytes): a window carries score and "
            "feature samples, larger than a report."
        ),
    )
    ingest_idempotency_entries: int = Field(
        default=100_000,
        description=(
            "Idempotency keys (and submission nonces) remembered in memory to recognise a "
            "submission sent twice."
        ),
    )
    ingest_submission_nonce_ttl_s: float = Field(
        default=24 * 3600.0,
        description=(
            "How long a submission nonce (the form's, or one an anonymous API client asked for) "
            "is accepted: a form left open this long is sent again with a fresh one."
        ),
    )
    ingest_kafka_timeout_s: float = Field(
        default=10.0,
        description="How long a submission waits for Kafka's acknowledgement before answering 503.",
    )
    ingest_rate_limit: str = Field(
        default="20/minute;200/hour",
        description=(
            "Submissions (form and REST) per client address, moving windows in `limits` notation;"
            " empty means no limit. Behind a proxy, the address is X-Forwarded-For's when the"
            " proxy is listed in uvicorn's FORWARDED_ALLOW_IPS environment variable (as the"
            " Kubernetes manifests set it)."
        ),
    )
    ingest_scrub_processes: int = Field(
        default=0,
        ge=0,
        description=(
            "Processes of their own that remove identifiers from reports' free text, each with"
            " its own copy of the language model (about 0.35 GB): 0 scrubs in a thread of the"
            " serving process, whose event loop then waits while the model reads. Scrubbing is"
            " most of a report's cost: with spare cores, one per core left to ingest."
        ),
    )
    ingest_metrics_host: str = Field(
        default="127.0.0.1",
        description=(
            "Address of ingest's Prometheus metrics listener, apart from the public port (0.0.0.0"
            " in a container, for Prometheus only)."
        ),
    )
    ingest_metrics_port: int = Field(
        default=8003,
        description="Port of ingest's Prometheus metrics listener (0: none).",
    )
