"""Settings shared by every service, read once from ``VIGIE_*`` environment variables."""

from __future__ import annotations

from functools import cached_property
from typing import Literal

from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from vigie.topics import (
    ALERTS,
    AUDIT_CHECKPOINTS,
    DRIFT_STATE,
    REPORTS,
    REPORTS_TRIAGED,
    SIGNALS,
    TELEMETRY,
    TRIAGE_FEEDBACK,
    TopicSpec,
)

# Only good for a laptop: a production deployment must bring its own key (refused below).
DEVELOPMENT_PSEUDONYM_KEY = "vigie-development-pseudonym-key-not-for-production"


class TopicNames:
    """Topic names resolved for one namespace (tests use a fresh namespace each)."""

    def __init__(self, namespace: str = "") -> None:
        self.namespace = namespace

    def name(self, spec: TopicSpec) -> str:
        """Full name of ``spec``'s topic in this namespace."""
        return f"{self.namespace}.{spec.name}" if self.namespace else spec.name

    @property
    def reports(self) -> str:
        return self.name(REPORTS)

    @property
    def reports_triaged(self) -> str:
        return self.name(REPORTS_TRIAGED)

    @property
    def telemetry(self) -> str:
        return self.name(TELEMETRY)

    @property
    def signals(self) -> str:
        return self.name(SIGNALS)

    @property
    def alerts(self) -> str:
        return self.name(ALERTS)

    @property
    def triage_feedback(self) -> str:
        return self.name(TRIAGE_FEEDBACK)

    @property
    def audit_checkpoints(self) -> str:
        return self.name(AUDIT_CHECKPOINTS)

    @property
    def drift_state(self) -> str:
        return self.name(DRIFT_STATE)


class CommonSettings(BaseSettings):
    """What every Vigie process needs: environment, Kafka, pseudonymisation key, logging."""

    model_config = SettingsConfigDict(env_prefix="VIGIE_", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    topic_namespace: str = ""
    pseudonym_key: SecretStr = SecretStr(DEVELOPMENT_PSEUDONYM_KEY)
    log_level: str = "INFO"

    @model_validator(mode="after")
    def _refuse_insecure_defaults(self) -> CommonSettings:
        if self.env == "production":
            key = self.pseudonym_key.get_secret_value()
            if key == DEVELOPMENT_PSEUDONYM_KEY or len(key) < 32:
                raise ValueError(
                    "VIGIE_PSEUDONYM_KEY must be set to a secret of at least 32 characters "
                    "when VIGIE_ENV=production"
                )
        return self

    @cached_property
    def topics(self) -> TopicNames:
        """Topic names for this deployment."""
        return TopicNames(self.topic_namespace)

    @property
    def pseudonym_key_bytes(self) -> bytes:
        """The pseudonymisation key as bytes for HMAC."""
        return self.pseudonym_key.get_secret_value().encode()
