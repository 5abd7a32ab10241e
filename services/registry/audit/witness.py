"""Audit checkpoints: the chain's head published on Kafka, outside the registry's database.

Every ``audit_checkpoint_s`` the registry queues the newest record's sequence number and hash
in its outbox when they moved; the relay publishes them to ``vigie.audit.checkpoints.v1``
(acks=all, kept forever). ``vigie audit verify`` reads them back and checks that each witnessed
record is still in the chain with the same hash. Only the records newer than the last
checkpoint can be removed unnoticed.
"""

from __future__ import annotations

import uuid

from sqlmodel import Session, col, select

from services.registry.audit.service import head
from services.registry.outbox import OutboxEvent, enqueue
from vigie.contracts import AuditCheckpoint
from vigie.kafka import read_topic
from vigie.settings import CommonSettings

_CHECKPOINT_NAMESPACE = uuid.UUID("5f0c8f8e-52a4-4d6e-9a53-0c7e2d1f4b77")
EVENT_TYPE = "audit_checkpoint"


def queue_checkpoint(session: Session, *, topic: str, registry: str) -> AuditCheckpoint | None:
    """Queue the chain's head in the outbox unless it was queued already, and commit; returns
    the checkpoint queued, if any.

    The event id derives from the head, so an unchanged head (or a restart) adds nothing.
    """
    last = head(session)
    if last is None or last.seq is None:
        return None
    checkpoint = AuditCheckpoint(
        event_id=uuid.uuid5(_CHECKPOINT_NAMESPACE, f"{registry}:{last.seq}:{last.hash}"),
        seq=last.seq,
        head_hash=last.hash,
        registry=registry,
    )
    event_id = str(checkpoint.event_id)
    if session.exec(select(OutboxEvent.id).where(col(OutboxEvent.event_id) == event_id)).first():
        return None
    enqueue(
        session,
        event_id=event_id,
        topic=topic,
        key=registry,
        event_type=EVENT_TYPE,
        payload=checkpoint.model_dump_json(),
    )
    session.commit()
    return checkpoint


class WitnessConflict(Exception):
    """Two checkpoints name different hashes for one record: the chain was rewritten."""


def witnessed_heads(settings: CommonSettings, *, timeout_s: float | None = None) -> dict[int, str]:
    """Sequence number to hash of every checkpoint on the topic (TopicUnavailable if the
    broker cannot be read)."""
    checkpoints, _ = read_topic(
        settings, settings.topics.audit_checkpoints, AuditCheckpoint, timeout_s=timeout_s
    )
    heads: dict[int, str] = {}
    for checkpoint in checkpoints:
        known = heads.setdefault(checkpoint.seq, checkpoint.head_hash)
        if known != checkpoint.head_hash:
            raise WitnessConflict(
                f"record {checkpoint.seq} was witnessed with two hashes: {known} and "
                f"{checkpoint.head_hash}"
            )
    return heads
