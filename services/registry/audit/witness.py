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

from services.registry.audit.models import AuditRecord
from services.registry.outbox import OutboxEvent
from vigie.contracts import AuditCheckpoint, utcnow
from vigie.kafka import read_topic
from vigie.settings import CommonSettings

_CHECKPOINT_NAMESPACE = uuid.UUID("5f0c8f8e-52a4-4d6e-9a53-0c7e2d1f4b77")
EVENT_TYPE = "audit_checkpoint"


def queue_checkpoint(
    session: Session, *, topic: str, registry: str, after_seq: int | None
) -> AuditCheckpoint | None:
    """Queue the chain's head in the outbox when it moved past ``after_seq``, and commit.

    The event id derives from the head, so queuing the same head twice (after a restart)
    adds nothing.
    """
    head = session.exec(select(AuditRecord).order_by(col(AuditRecord.seq).desc()).limit(1)).first()
    if head is None or head.seq is None or head.seq == after_seq:
        return None
    checkpoint = AuditCheckpoint(
        event_id=uuid.uuid5(_CHECKPOINT_NAMESPACE, f"{registry}:{head.seq}:{head.hash}"),
        seq=head.seq,
        head_hash=head.hash,
        registry=registry,
    )
    event_id = str(checkpoint.event_id)
    queued = session.exec(select(OutboxEvent.id).where(col(OutboxEvent.event_id) == event_id))
    if queued.first() is None:
        session.add(
            OutboxEvent(
                event_id=event_id,
                topic=topic,
                key=registry,
                event_type=EVENT_TYPE,
                payload=checkpoint.model_dump_json(),
                created_at=utcnow(),
            )
        )
        session.commit()
    return checkpoint


class WitnessConflict(Exception):
    """Two checkpoints name different hashes for one record: the chain was rewritten."""


def witnessed_heads(settings: CommonSettings, *, timeout_s: float = 10.0) -> dict[int, str]:
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
