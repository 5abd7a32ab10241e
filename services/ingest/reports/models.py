"""HTTP models of report submission: what a reporter sends and the receipt it gets back."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from vigie.contracts import (
    EARLIEST_DATE,
    AiInvolvement,
    DeviceRef,
    Language,
    ReportedOutcome,
    ReporterRole,
    ReportKind,
    no_control_characters,
    utcnow,
)

EXAMPLE_REPORT: dict[str, Any] = {
    "kind": "inappropriate_ai_suggestion",
    "reporter_role": "physician",
    "establishment": "CHU de Bordeaux",
    "country": "FR",
    "device": {
        "name": "Veye Lung Nodules",
        "manufacturer": "Aidence B.V.",
        "udi_di": "08720299160012",
        "model_version": "3.2.1",
    },
    "is_medical_device": True,
    "event_date": "2026-11-18",
    "awareness_date": "2026-11-19",
    "outcome": "serious_deterioration",
    "language": "fr",
    "narrative": "Le logiciel n'a pas signalé un nodule de 9 mm visible sur le scanner; "
    "diagnostic de cancer retardé de quatre mois, hospitalisation.",
    "patient_identifier": "IPP 40012345",
    "ai": {
        "task": "detection",
        "output": "Aucun nodule détecté.",
        "output_confidence": 0.93,
        "clinician_action": "followed",
        "patient_exposed": True,
        "input_data_problems": [],
        "patient_age_band": "65-79",
        "patient_sex": "female",
    },
}


class AiInvolvementCreate(AiInvolvement):
    """The AI part of a report as a reporter sends it (unknown fields refused)."""

    model_config = ConfigDict(extra="forbid")


class ReportCreate(BaseModel):
    """A report as a clinician or correspondent submits it."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE_REPORT]})

    kind: ReportKind = Field(description="Adverse event, inappropriate AI suggestion or near miss.")
    reporter_role: ReporterRole
    establishment: str | None = Field(default=None, max_length=200)
    country: str = Field(default="FR", pattern=r"^[A-Z]{2}$")
    device: DeviceRef
    is_medical_device: bool = True
    # The contract's earliest date: an older one is a 422 here, not an event ingest cannot build.
    event_date: date | None = Field(default=None, ge=EARLIEST_DATE)
    awareness_date: date = Field(
        ge=EARLIEST_DATE, description="Day you became aware of the incident."
    )
    outcome: ReportedOutcome
    public_health_threat: bool = False
    fundamental_rights_concern: bool = False
    language: Language = Language.FR
    narrative: str = Field(min_length=10, max_length=20_000)
    patient_identifier: str | None = Field(
        default=None,
        max_length=64,
        description="Local patient identifier (IPP, record number). Pseudonymised before it "
        "leaves ingest; never stored or transmitted in clear.",
    )
    ai: AiInvolvementCreate | None = Field(
        default=None,
        description="What the AI did and what was done with it, for an inappropriate AI "
        "suggestion above all (its output is de-identified like the narrative).",
    )

    @field_validator("establishment", "narrative", "patient_identifier")
    @classmethod
    def _no_control_characters(cls, value: object) -> object:
        # The contract refuses them: a 422 here, not an event ingest cannot build.
        return no_control_characters(value)

    @model_validator(mode="after")
    def _dates_make_sense(self) -> ReportCreate:
        today = utcnow().date()
        if self.awareness_date > today:
            raise ValueError("awareness_date cannot be in the future")
        if self.event_date is not None:
            if self.event_date > today:
                raise ValueError("event_date cannot be in the future")
            if self.event_date > self.awareness_date:
                raise ValueError("event_date cannot be after awareness_date")
        return self


class Receipt(BaseModel):
    """Proof that the report is durably recorded, and where to follow it."""

    report_id: uuid.UUID
    tracking_number: str = Field(examples=["VG-7K2D-9QXM"])
    status_url: str = Field(description="Secret link where the reporter follows the case.")
    received_at: datetime
    narrative: str = Field(
        description="The narrative exactly as it was sent on: identifiers found in it replaced "
        "by pseudonyms. This is all that the registry, authorities and manufacturers read of it."
    )
    establishment: str | None = Field(
        default=None, description="The establishment exactly as it was sent on."
    )


class SubmissionNonce(BaseModel):
    """A server-issued idempotency key for an anonymous submission."""

    nonce: str = Field(
        description="Send it as the Idempotency-Key of one submission (and of its retries). "
        "Unpredictable and known only to you, so no one else can submit under it."
    )
    expires_at: datetime = Field(description="After this, the nonce is refused.")
