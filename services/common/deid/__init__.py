"""De-identification of free text: what a report's narrative and establishment lose before they
leave ingest (and again in triage, whoever wrote the topic)."""

from services.common.deid.engine import (
    SPACY_MODEL,
    Entity,
    Scrubber,
    ScrubberUnavailable,
    load_scrubber,
)
from services.common.deid.patterns import ENTITY_TYPES

__all__ = [
    "ENTITY_TYPES",
    "SPACY_MODEL",
    "Entity",
    "Scrubber",
    "ScrubberUnavailable",
    "load_scrubber",
]
