"""HTTP models of follow-ups: what a reporter sends through the status link, and the receipt."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from vigie.contracts import (
    EARLIEST_DATE,
    Language,
    ReportedOutcome,
    no_control_characters,
    utcnow,
)

EXAMPLE_FOLLOWUP: dict[str, Any] = {
    "status_token": "the secret at the end of your status link",
    "text": "Le patient est décédé le 24 novembre des suites de l'hémorragie.",
    "outcome": "death",
    "awareness_date": "2026-11-25",
    "language": "fr",
}


class FollowUpCreate(BaseModel):
    """Information a reporter adds to a report already sent: text, the outcome if it changed,
    or both."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE_FOLLOWUP]})

    status_token: str = Field(
        min_length=1,
        max_length=200,
        description="The secret of your status link: the last part of its address. It is "
        "checked with the registry and never sent on.",
    )
    text: str | None = Field(
        default=None,
        min_length=1,
        max_length=5000,
        description="What you add, in your words (identifiers are replaced before it is sent "
        "on, as in the report's narrative).",
    )
    outcome: ReportedOutcome | None = Field(
        default=None,
        description="The patient's outcome as it is now, if it changed since the report "
        "(e.g. death).",
    )
    awareness_date: date | None = Field(
        default=None,
        ge=EARLIEST_DATE,
        description="Day you learned of the new outcome (today when absent): a worse "
        "outcome's legal deadline counts from it.",
    )
    language: Language = Language.FR

    @field_validator("status_token", "text")
    @classmethod
    def _no_control_characters(cls, value: object) -> object:
        return no_control_characters(value)

    @model_validator(mode="after")
    def _says_something(self) -> FollowUpCreate:
        if self.text is None and self.outcome is None:
            raise ValueError("give text, an outcome or both")
        if self.awareness_date is not None and self.awareness_date > utcnow().date():
            raise ValueError("awareness_date cannot be in the future")
        return self


class FollowUpReceipt(BaseModel):
    """Proof that the follow-up is durably recorded, with what was sent on."""

    followup_id: uuid.UUID
    tracking_number: str = Field(examples=["VG-7K2D-9QXM"])
    received_at: datetime
    text: str | None = Field(
        default=None,
        description="The text exactly as it was sent on: identifiers found in it replaced by "
        "pseudonyms.",
    )
    outcome: ReportedOutcome | None = None
