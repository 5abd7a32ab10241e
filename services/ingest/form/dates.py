"""Dates as the form's pages show them, in the page's language ("3 décembre 2026")."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Final

MONTHS: Final[dict[str, tuple[str, ...]]] = {
    "fr": (
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ),
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}


def long_date(value: date | str | None, lang: str) -> str:
    """``value`` (a date or its ISO form) written out: "3 décembre 2026", "3 December 2026";
    "1er" for the first of a month in French. Text that is not a date is returned as it is."""
    if value is None or value == "":
        return ""
    try:
        when = date.fromisoformat(value) if isinstance(value, str) else value
    except ValueError:
        return str(value)
    day = "1er" if lang == "fr" and when.day == 1 else str(when.day)
    return f"{day} {MONTHS[lang][when.month - 1]} {when.year}"


def long_datetime(value: datetime, lang: str) -> str:
    """``value`` in UTC, written out: "3 décembre 2026 à 07:05 UTC" or "3 December 2026, 07:05
    UTC"."""
    value = value.astimezone(UTC)
    joint = " à " if lang == "fr" else ", "
    return f"{long_date(value.date(), lang)}{joint}{value:%H:%M} UTC"
