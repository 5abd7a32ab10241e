"""HTTP models of the device search: the catalogue entries a typed name or number matches."""

from __future__ import annotations

from pydantic import BaseModel, Field


class DeviceMatch(BaseModel):
    """A catalogue device, spelled as the catalogue spells it, with its known model versions."""

    catalogue_id: str = Field(
        description="Id of the device in the catalogue.", examples=["DEV_00001"]
    )
    name: str = Field(description="Trade name.", examples=["Tempus ECG-AF"])
    manufacturer: str = Field(description="Manufacturer (the FDA applicant).")
    submission_number: str | None = Field(
        default=None,
        description="FDA submission number (510(k), De Novo, PMA).",
        examples=["K233549"],
    )
    model_versions: list[str] = Field(
        default_factory=list,
        description="AI model versions the device's own telemetry declared to the registry, "
        "oldest first (empty when none is known yet or the registry did not answer).",
    )


class DeviceMatches(BaseModel):
    """The best matches of a search, at most ``limit`` of them."""

    items: list[DeviceMatch]
