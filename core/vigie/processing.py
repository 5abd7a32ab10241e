"""Batch-consumer plumbing shared by the services' Kafka handlers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.message import StreamMessage


def raw_records(message: StreamMessage[Any]) -> tuple[Any, ...]:
    """FastStream decoder that leaves decoding to the handler.

    Handlers validate record by record so that one bad message goes to the dead-letter topic
    instead of failing (and endlessly redelivering) the whole batch.
    """
    raw = message.raw_message
    return raw if isinstance(raw, tuple) else (raw,)


def batch_subscriber(
    broker: KafkaBroker, topic: str, *, group_id: str, max_records: int, ack_policy: AckPolicy
) -> Callable[..., Any]:
    """A batch subscriber of ``topic`` in ``group_id``, reading from the start of the topic on
    first run, whose records the handler decodes one by one (see :func:`raw_records`).

    The ack policy is the caller's to state; the services use ``NACK_ON_ERROR``: offsets are
    committed only when the handler returned, after its effects were made durable.
    """
    return broker.subscriber(
        topic,
        group_id=group_id,
        batch=True,
        max_records=max_records,
        auto_offset_reset="earliest",
        ack_policy=ack_policy,
        decoder=raw_records,
    )
