"""Batch-consumer plumbing shared by the services' Kafka handlers."""

from __future__ import annotations

from typing import Any

from faststream.message import StreamMessage


def raw_records(message: StreamMessage[Any]) -> tuple[Any, ...]:
    """FastStream decoder that leaves decoding to the handler.

    Handlers validate record by record so that one bad message goes to the dead-letter topic
    instead of failing (and endlessly redelivering) the whole batch.
    """
    raw = message.raw_message
    return raw if isinstance(raw, tuple) else (raw,)
