"""Bounds of paged listings: an offset past any real listing is refused (422) instead of
reaching the database, whose integers it may not fit."""

from __future__ import annotations

# Far more rows than any listing holds, far less than a 64-bit integer.
MAX_OFFSET = 1_000_000
