"""Telemetry windows sent over HTTP by devices that cannot reach Kafka."""
