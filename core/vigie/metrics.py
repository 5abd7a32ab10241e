"""Metric catalogue: every Prometheus metric Vigie exports, with what it counts."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

# --- metric catalogue: every metric Vigie exports, with what it counts --------------------

# Messages taken from a topic by a consumer (valid or not).
CONSUMED = Counter("vigie_messages_consumed", "Kafka messages consumed", ["service", "topic"])
# Messages a consumer could not process and sent to <topic>.dlq.
DEAD_LETTERED = Counter(
    "vigie_messages_dead_lettered",
    "Messages sent to a dead-letter topic",
    ["service", "topic", "reason"],
)
# Events that decoded but broke rules every record must satisfy (forged or faulty writer):
# dead-lettered with reason "untrusted". Any increase deserves an operator's look.
UNTRUSTED = Counter(
    "vigie_untrusted_events",
    "Events refused because they break the rules every record must satisfy",
    ["service", "topic"],
)
# Records whose processing kept failing, isolated to the dead-letter topic (reason
# "processing"): the rest of their batch went on. Any increase deserves an operator's look.
PROCESSING_FAILED = Counter(
    "vigie_processing_failed",
    "Records isolated to the dead-letter topic because their processing kept failing",
    ["service", "topic"],
)
# Events a domain function declined to apply because they contradict what is recorded (a report
# id already recorded with another body: reason "report_id_conflict"), dead-lettered with the
# reason. Any increase deserves an operator's look.
REFUSED = Counter(
    "vigie_events_refused",
    "Events dead-lettered because they contradict what is recorded",
    ["service", "topic", "reason"],
)
# Batches consumed again after a transient failure (database or broker unavailable).
OUTAGE_RETRIES = Counter(
    "vigie_outage_retries", "Batches retried after a transient failure", ["service"]
)
# Consumers stopped by their dead-letter limit (most of their input invalid).
DLQ_LIMIT_EXCEEDED = Counter(
    "vigie_dlq_limit_exceeded",
    "Batches refused because the consumer would dead-letter most of its input",
    ["service", "topic"],
)
# Events a service published and the broker acknowledged.
PUBLISHED = Counter("vigie_messages_published", "Kafka messages published", ["service", "topic"])
# Time to process one consumed batch, effects made durable included.
BATCH_SECONDS = Histogram(
    "vigie_batch_seconds",
    "Time to process a consumed batch",
    ["service"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
# Reports accepted by ingest (202 returned).
REPORTS_ACCEPTED = Counter("vigie_reports_accepted", "Reports accepted by ingest", ["kind"])
# Reports refused by ingest (validation, size).
REPORTS_REFUSED = Counter("vigie_reports_refused", "Reports refused by ingest", ["reason"])
# Time from request to Kafka acknowledgement of a report.
INGEST_PUBLISH_SECONDS = Histogram(
    "vigie_ingest_publish_seconds", "Time for Kafka to acknowledge a submitted report"
)
# Time to de-identify a report's free text (narrative and establishment) before publishing it.
INGEST_SCRUB_SECONDS = Histogram(
    "vigie_ingest_scrub_seconds",
    "Time to remove patient identifiers from a submitted report's free text",
    buckets=(0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.5),
)
# Reports triaged, by final severity and whether a human must review them.
TRIAGED = Counter("vigie_reports_triaged", "Reports triaged", ["severity", "needs_review"])
# Registry upserts: inserted for a new report, duplicate for a redelivery.
REGISTRY_UPSERTS = Counter("vigie_registry_upserts", "Registry report upserts", ["result"])
# Alerts published from the outbox.
ALERTS_PUBLISHED = Counter("vigie_alerts_published", "Alerts published to Kafka", ["alert_type"])
# Telemetry windows accepted over HTTP by ingest, and refused (by reason).
TELEMETRY_ACCEPTED = Counter("vigie_telemetry_accepted", "Telemetry windows accepted by ingest")
TELEMETRY_REFUSED = Counter(
    "vigie_telemetry_refused", "Telemetry windows refused by ingest", ["reason"]
)
# Drift signals published by the triage drift monitor, by detector and severity.
DRIFT_SIGNALS = Counter("vigie_drift_signals", "Drift signals published", ["detector", "severity"])
# Drift detections suppressed by the cool-down (one drift, one signal).
DRIFT_SUPPRESSED = Counter(
    "vigie_drift_suppressed", "Drift detections suppressed by the cool-down", ["detector"]
)
# Outbox rows waiting to be published.
OUTBOX_PENDING = Gauge("vigie_outbox_pending", "Outbox events not yet published")
# Records a consumer group has yet to process: the partition's end offset minus the group's
# committed offset, measured every 15 s by each consumer (vigie.lag).
CONSUMER_LAG = Gauge(
    "vigie_consumer_lag",
    "Records between a consumer group's committed offset and the end of a partition",
    ["service", "group", "topic", "partition"],
)
# A periodic job of a service (the registry's audit checkpoint, signal scan, deadline watch):
# when it last ran to the end, and how often it should. A job that stays behind its period for
# several periods is stuck or failing (its errors are in the log). Labelled "task": "job" is the
# label Prometheus gives every scraped target.
JOB_LAST_SUCCESS = Gauge(
    "vigie_job_last_success_timestamp_seconds",
    "When a periodic job last completed (Unix time; the service's start before its first run)",
    ["task"],
)
JOB_PERIOD = Gauge("vigie_job_period_seconds", "How often a periodic job runs", ["task"])
# The service's last readiness answer (/readyz): 1 ready, 0 not (what it lacks is on the page).
READY = Gauge(
    "vigie_ready", "Whether the service's last readiness check passed (1) or not (0)", ["service"]
)
# Open cases past their legal reporting deadline (the registry's case queue, any tenant).
CASES_OVERDUE = Gauge(
    "vigie_cases_overdue", "Cases whose legal reporting deadline has passed while their clock runs"
)
