"""Pseudonymisation: keyed hashes of patient identifiers and scrubbing of free text."""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import sys
import unicodedata

# The form of version 1 of the pseudonym key; version n writes "ps<n>:" (see pseudonym_prefix).
PSEUDONYM_PREFIX = "ps1:"
# Three digits at most: the contracts' pattern and the registry's columns are sized for it.
MAX_PSEUDONYM_VERSION = 999


def pseudonym_prefix(version: int = 1) -> str:
    """The prefix of pseudonyms made with version ``version`` of the pseudonym key.

    The version says which key made a pseudonym, so the key can rotate: pseudonyms of the old
    key stay recognisable (and are left alone by :func:`scrub`) while new ones are made.
    """
    if not 1 <= version <= MAX_PSEUDONYM_VERSION:
        raise ValueError(f"pseudonym key versions go from 1 to {MAX_PSEUDONYM_VERSION}")
    return f"ps{version}:"


def pseudonymise(identifier: str, *, key: bytes, version: int = 1) -> str:
    """Keyed, stable pseudonym of an identifier: the same patient gives the same pseudonym.

    HMAC-SHA256 rather than a plain hash because identifiers such as a French NIR have so little
    entropy that an unkeyed hash is reversed by enumeration. ``version`` is the version of
    ``key``, written in the pseudonym's prefix.
    """
    normalised = re.sub(r"[\s.\-/]", "", unicodedata.normalize("NFKC", identifier)).upper()
    digest = hmac.new(key, normalised.encode(), hashlib.sha256).hexdigest()
    return pseudonym_prefix(version) + digest[:32]


# A capitalised name word, hyphenated or with an apostrophe before a capital (Jean-Pierre,
# O'Brien); "Smith's" stops before the apostrophe.
_NAME_WORD = r"[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿA-ZÀ-ÖØ-Þ]*(?:[-'’][A-ZÀ-ÖØ-Þ][a-zà-öø-ÿA-ZÀ-ÖØ-Þ]*)*"

# Each pattern captures the identifier itself in group "id"; the words around it stay, so the
# narrative still reads ("IPP [ps1:...]").
_IDENTIFIER_PATTERNS: tuple[re.Pattern[str], ...] = (
    # French NIR (social security number): sex digit, year, month, department, commune, order,
    # optional 2-digit key, with or without spaces.
    re.compile(
        r"(?<![\dA-Za-z])(?P<id>[12][\s.]?\d{2}[\s.]?(?:0[1-9]|1[0-2]|[2-9]\d)[\s.]?"
        r"(?:\d{2}|2[AB])[\s.]?\d{3}[\s.]?\d{3}(?:[\s.]?\d{2})?)(?![\dA-Za-z])"
    ),
    # Hospital and record numbers introduced by their usual labels.
    re.compile(
        r"(?i)\b(?:IPP|NIP|MRN|NDA|n°\s*(?:de\s+)?dossier|dossier\s*(?:n°|no\.?|num[ée]ro)?|"
        r"patient\s*(?:id|n°|no\.?|number|num[ée]ro)|medical\s+record\s*(?:number|no\.?)?)"
        r"\s*[:#=]?\s*(?P<id>[A-Z0-9][A-Z0-9\-/]{3,})"
    ),
    re.compile(r"(?P<id>[\w.+-]+@[\w-]+\.[\w.-]+)"),
    # Phone numbers, French and international formats.
    re.compile(r"(?<!\d)(?P<id>(?:\+\d{2}\s?|0)[1-9](?:[\s.-]?\d{2}){4})(?!\d)"),
    # Names after a courtesy title ("Mme Marie Dupont", "M. LEROY", "Mr O'Brien"): one to three
    # capitalised words. Unlabelled names are not recognised.
    re.compile(
        rf"(?<![\w.])(?:M\.|Mme|Mlle|Monsieur|Madame|Mademoiselle|Mr\.?|Mrs\.?|Ms\.?|Miss)"
        rf"\s+(?P<id>{_NAME_WORD}(?:\s+{_NAME_WORD}){{0,2}})"
    ),
    # Dates of birth, only when labelled as such: other dates are clinical facts.
    re.compile(
        r"(?i)\b(?:n[ée]e?\s+le|date\s+de\s+naissance|DOB|date\s+of\s+birth|born(?:\s+on)?)"
        r"\s*[:]?\s*(?P<id>\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}|\d{4}-\d{2}-\d{2})"
    ),
)


# A pseudonym of any key version: text scrubbed before a rotation stays as it is.
_PSEUDONYM_TOKEN = re.compile(r"\[ps[1-9][0-9]{0,2}:[0-9a-f]{32}\]")


def scrub(text: str, *, key: bytes, version: int = 1) -> str:
    """Replace patient identifiers found in free text by bracketed pseudonyms.

    >>> scrub("IPP 12345678, tél. 06 12 34 56 78", key=b"k")  # doctest: +ELLIPSIS
    'IPP [ps1:...], tél. [ps1:...]'
    """
    # Compatibility forms (fullwidth digits, ligatures) folded and invisible format characters
    # (zero-width spaces, joiners, direction marks) removed first: an identifier written with
    # them is still an identifier, and must not slip past the patterns.
    text = visible(text)
    # Already-pseudonymised tokens are kept as they are, so scrubbing twice changes nothing.
    parts = _PSEUDONYM_TOKEN.split(text)
    tokens = _PSEUDONYM_TOKEN.findall(text)
    out: list[str] = []
    for index, part in enumerate(parts):
        for pattern in _IDENTIFIER_PATTERNS:
            part = _replace_ids(pattern, part, key, version)
        out.append(part)
        if index < len(tokens):
            out.append(tokens[index])
    return "".join(out)


def visible(text: str) -> str:
    """NFKC-normalised text without format characters (Unicode category Cf)."""
    if text.isascii():
        return text  # NFKC leaves ASCII as it is, and no format character is ASCII
    return _format_characters().sub("", unicodedata.normalize("NFKC", text))


@functools.cache
def _format_characters() -> re.Pattern[str]:
    """Every code point of category Cf in this Python's Unicode database, as one class of
    ranges (a class of single characters is ten times slower to search)."""
    ranges: list[tuple[int, int]] = []
    for code in range(sys.maxunicode + 1):
        if unicodedata.category(chr(code)) == "Cf":
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))
    members = "".join(f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges)
    return re.compile(f"[{members}]")


def _replace_ids(pattern: re.Pattern[str], text: str, key: bytes, version: int) -> str:
    def substitute(match: re.Match[str]) -> str:
        start, end = match.span("id")
        offset = match.start()
        pseudonym = f"[{pseudonymise(match.group('id'), key=key, version=version)}]"
        return match.group(0)[: start - offset] + pseudonym + match.group(0)[end - offset :]

    return pattern.sub(substitute, text)
