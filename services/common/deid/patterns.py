"""Identifiers found by their form: numbers with checksums, labelled record numbers, dates of
birth, ages over 89, postal addresses, phones, e-mails, names with a title or in a header.

Each pattern captures the identifier in the group ``id``; the label around it stays in the text
("IPP [ps1:…]", "née le [DATE_NAISSANCE]"), so the narrative still reads.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

# Entity types, named as the placeholders that replace them.
NOM = "NOM"
DATE_NAISSANCE = "DATE_NAISSANCE"
AGE = "AGE"
ADRESSE = "ADRESSE"
TELEPHONE = "TELEPHONE"
EMAIL = "EMAIL"
NUMERO_SECU = "NUMERO_SECU"
NUMERO_DOSSIER = "NUMERO_DOSSIER"

ENTITY_TYPES = (NOM, DATE_NAISSANCE, AGE, ADRESSE, TELEPHONE, EMAIL, NUMERO_SECU, NUMERO_DOSSIER)

# A capitalised or upper-case name word, hyphenated or with an apostrophe ("Jean-Pierre",
# "O'Brien", "LE GALL"); "Smith's" stops before the possessive.
# Latin letters with diacritics beyond Latin-1 ("Trương", "Wiśniewski", "Ngọc") belong to both
# cases here: the blocks interleave upper and lower case.
_EXTENDED = "\u0100-\u024f\u1e00-\u1eff"
UP = f"A-ZÀ-ÖØ-Þ{_EXTENDED}"
LOW = f"a-zß-öø-ÿ{_EXTENDED}"
# Breton surnames keep their c'h ("Guivarc'h", "KERC'HOAT").
NAME_WORD = (
    rf"(?:[dD]['’])?[{UP}][{LOW}{UP}]*(?:[cC]['’][hH][{LOW}{UP}]*)?"
    rf"(?:[-'’][{UP}][{LOW}{UP}]*(?:[cC]['’][hH][{LOW}{UP}]*)?)*"
)
UPPER_WORD = rf"[{UP}]{{2,}}(?:C['’]H[{UP}]*)?(?:[-'’][{UP}]{{2,}}(?:C['’]H[{UP}]*)?)*"
CAP_WORD = rf"[{UP}][{LOW}]+(?:-[{UP}][{LOW}]+)*"
PARTICLE = (
    r"(?:de|du|des|de\s+la|del|dela|van|von|der|den|het|le|la|da|das|do|di|dos|ben|bin|binte|binti|bint|ibn|al|el|mac|ó|ní|"
    r"ni|nic|uí|ui|mhic|mc|ferch|verch|o|ap|ab|ter|ten|af)"
)
INITIAL = rf"[{UP}]\.?(?:-?[{UP}]\.)?"

TITLE = (
    r"(?:M\.|Mme\.?|Mmes|Mlle\.?|MM\.|Mr\.?|Mrs\.?|Ms\.?|Mx\.?|Miss|MME|MLLE|MR\.?|MRS\.?|mr\.?|mrs\.?|"
    r"(?i:monsieur|madame|mademoiselle|mme|mlle|docteur|doctor|professeur|professor|nurse|sister|"
    r"infirmi[eè]re?|midwife|sage-femme|interne|externe|kin[ée]|aide-soignante?|brancardier|"
    r"matron|charge\s+nurse|staff\s+nurse|registrar|consultant|paramedic|pharmacist|"
    r"(?:genetic\s+)?counsell?or|porter|receptionist|"
    r"(?:redacted|instructed|checked|verified)\s+by(?:\s+(?:the\s+)?(?:monitor|CRA|ARC))?)|"
    r"Smt\.?|Sri|Shri|Kumari|[WSDC]/o|Pt\.?|RN|CNS|ASH|HCA|Mdm\.?|Alhaji|Alhaja|Hajia|"
    r"Dr\.?|Drs\.?|Pr\.?|Prof\.?|Me\.?|Maître|Sr\.?|IDE|Father|Rev\.?|Sir|Dame|Lady|Lord)"
)

_MONTHS_FR = (
    r"janv(?:ier|\.)?|f[ée]v(?:rier|r\.?|\.)?|mars|avr(?:il|\.)?|mai|juin|juil(?:let|\.)?|"
    r"ao[uû]t|sept(?:embre|\.)?|oct(?:obre|\.)?|nov(?:embre|\.)?|d[ée]c(?:embre|\.)?"
)
_MONTHS_EN = (
    r"jan(?:uary|\.)?|feb(?:ruary|\.)?|mar(?:ch|\.)?|apr(?:il|\.)?|may|june?|july?|"
    r"aug(?:ust|\.)?|sep(?:t|tember|\.)?|oct(?:ober|\.)?|nov(?:ember|\.)?|dec(?:ember|\.)?"
)
_MONTH = rf"(?:{_MONTHS_FR}|{_MONTHS_EN})"
DATE = (
    r"(?:\d{1,2}\s*[/.\-]\s*\d{1,2}\s*[/.\-]\s*(?:\d{4}|\d{2})"  # 03/03/1947, 3.3.47
    rf"|\d{{1,2}}[\-/.](?:{_MONTH})\.?[\-/.](?:\d{{4}}|\d{{2}})"  # 3-Mar-1947
    r"|\d{1,2}[\s.\-][IVX]{1,4}[\s.\-]\d{4}"  # 3 III 1947, 3.III.1947, 3-III-1947
    r"|(?:0?[1-9]|1[0-2])\s(?:19|20)\d{2}"  # 04 1938
    r"|\d{1,2}\s\d{1,2}\s(?:19|20)\d{2}"  # 03 03 1947
    r"|(?:0[1-9]|[12]\d|3[01])(?:0[1-9]|1[0-2])(?:19|20)\d{2}"  # 03031947
    r"|(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"  # 19470303
    r"|(?:0?[1-9]|1[0-2])[/.\-](?:19|20)\d{2}"  # 04/1944
    r"|'\d{2}(?!\d)"  # '93
    r"|\d{4}[\-/.]\d{2}[\-/.]\d{2}"  # 1947-03-03, 1947/03/03
    rf"|(?:{_MONTH})\.?-\d{{1,2}}-\d{{4}}"  # Mar-03-1947
    # 3 mars 1947, 7th of March 1947
    rf"|(?:1er|\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}\.?,?\s+(?:\d{{4}}|'?\d{{2}})"
    rf"|{_MONTH}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"  # March 7, 1947
    rf"|{_MONTH}\.?\s+\d{{4}}"  # mars 1947
    r"|(?:18|19|20)\d{2})"  # 1947 (a year of birth)
)

_DOB_LABEL = (
    r"(?:date\s+(?:de\s+)?naiss(?!ance)\.?|D/O/B|birthday|anniversaire|"
    r"n[ée](?:e|\(e\))?(?:\s+[àa]\s+[A-ZÀ-Ý][\w'’\-]*(?:[\s\-][\w'’\-]+)?)?"
    # A birth name between "née" and the date ("née Cazenave le 17 août 1929").
    r"(?:\s+(?-i:[A-ZÀ-Ý])[\w'’\-]+(?:\s(?-i:[A-ZÀ-Ý])[\w'’\-]+)?(?=\s+(?:le|en)\s))?"
    r"(?:\s+(?:le|en|au\s+mois\s+de|vers))?|date\s+de\s+naiss(?:ance|\.)?|DDN|D\.D\.N\.?|D\.N\.|DN|"
    r"naissance|D\.?\s?[O0]\.?\s?B\.?|date\s+of\s+birth|birth\s*date|birthdate|°|\*(?=\s?\d)|"
    r"YOB|year\s+of\s+birth|geb\.|ann[ée]e\s+de\s+naissance|birth(?=\s*:)|"
    r"born(?:\s+in\s+[A-Z][\w'’\-]*(?:\s+[A-Z][\w'’\-]*)?)?(?:\s+(?:on|in))?|b\.)"
)


# Numbers as dictated ("quatre juin trente-huit", "four four eight two nine one three").
_NUMBER_WORD = (
    r"(?:z[ée]ro|un|une|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|treize|quatorze|"
    r"quinze|seize|vingt|trente|quarante|cinquante|soixante|septante|huitante|octante|nonante|"
    r"cents?|mille|mil|et|premier|zero|oh|one|two|three|four|five|six|seven|eight|nine|ten|"
    r"eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|"
    r"forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|and|first|second|third|fourth|"
    r"fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|\w+teenth|twentieth|thirtieth|"
    r"twenty-\w+|thirty-\w+|of|the|double|triple)"
)
# Whole words only: "nine" is not the start of "nineteen", nor "cinq" of "cinquante".
_SPOKEN_WORD = rf"(?:{_NUMBER_WORD}|{_MONTH})(?![\w])"
AGE_UNIT = r"(?:ans|yo|y/o|years?(?:[\s-]old)?|yrs?)"
# Words that end a street's name when no comma does ("4 impasse des Lilas depuis 2019",
# "lives at 14 Kowhai Crescent with her son", "… à Chelles point" in a dictation).
_STREET_STOP = (
    r"(?i:depuis|avec|sans|with|without|since|for|pour|o[uù]|where|who|qui|que|quand|when|"
    r"lorsque|mais|but|alone|seule?|has|have|had|is|was|est|avait|[ée]tait|dans|at|chez|"
    r"from|to|vers|near|point|virgule|son|sa|ses|her|his|their|leur|leurs|until|or|ou)(?![\w'’])"
)
SPOKEN = rf"{_SPOKEN_WORD}(?:,?[\s\-]+{_SPOKEN_WORD}){{2,16}}"


def spoken_number(text: str) -> bool:
    """A dictated number of at least four words, or a dictated date with a month."""
    words = re.findall(r"[\wéèû]+", text.lower())
    has_month = re.search(rf"(?i)\b(?:{_MONTH})\b", text) is not None
    return len(words) >= 4 or (has_month and len(words) >= 3)


_YEAR_WORDS = re.compile(
    r"(?i)\b(?:vingt|trente|quarante|cinquante|soixante|septante|huitante|octante|nonante|mille|"
    r"nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred)"
)


def spoken_year(text: str) -> bool:
    """A year dictated ("vingt-huit", "nineteen thirty"): a tens word, not "one of the"."""
    words = text.lower().split()
    return _YEAR_WORDS.search(text) is not None and words[-1] not in ("of", "the", "and", "et")


@dataclass(frozen=True)
class Rule:
    """One pattern: the entity it finds, a score, and an optional check of the match."""

    entity: str
    pattern: re.Pattern[str]
    score: float = 0.9
    valid: Callable[[str], bool] | None = None


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def nir_key_ok(text: str) -> bool:
    """A French NIR with its key: 97 minus the 13 digits modulo 97 (2A/2B read as 19/18)."""
    compact = re.sub(r"[\s.\-]", "", text).upper()
    if len(compact) != 15:
        return False
    body = compact[:13].replace("2A", "19").replace("2B", "18")
    if not body.isdigit() or not compact[13:].isdigit():
        return False
    return 97 - int(body) % 97 == int(compact[13:])


def nhs_ok(text: str) -> bool:
    """An NHS number: ten digits, the last a modulus-11 check digit."""
    digits = _digits(text)
    if len(digits) != 10:
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    check = 0 if check == 11 else check
    return check != 10 and check == int(digits[9])


def ssn_ok(text: str) -> bool:
    """A US social security number in a form the SSA issues."""
    digits = _digits(text)
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    return (
        len(digits) == 9
        and area not in {"000", "666"}
        and not area.startswith("9")
        and group != "00"
        and serial != "0000"
    )


def _calendar_day(yymmdd: str, *, month_offsets: tuple[int, ...] = (0,)) -> bool:
    """Six digits that read as a year, a month (shifted by one of ``month_offsets``) and a day."""
    month, day = int(yymmdd[2:4]), int(yymmdd[4:6])
    return any(1 <= month - shift <= 12 for shift in month_offsets) and 1 <= day <= 31


def niss_ok(text: str) -> bool:
    """A Belgian national register number (NISS): birth date, order, then 97 minus the nine
    digits modulo 97 (with a 2 in front for births from 2000)."""
    digits = _digits(text)
    if len(digits) != 11 or not _calendar_day(digits[:6], month_offsets=(0, 20, 40)):
        return False
    check = int(digits[9:])
    return check in (97 - int(digits[:9]) % 97, 97 - int("2" + digits[:9]) % 97)


def ean13_ok(text: str) -> bool:
    """A Swiss AVS number (756, nine digits, an EAN-13 check digit)."""
    digits = _digits(text)
    if len(digits) != 13 or not digits.startswith("756"):
        return False
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(digits[:12]))
    return (10 - total % 10) % 10 == int(digits[12])


def luhn_ok(text: str) -> bool:
    """A Luhn check digit over every digit of ``text``."""
    total = 0
    for index, digit in enumerate(int(d) for d in reversed(_digits(text))):
        if index % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def sa_id_ok(text: str) -> bool:
    """A South African identity number: birth date, gender and order, citizenship, Luhn."""
    digits = _digits(text)
    return (
        len(digits) == 13 and _calendar_day(digits[:6]) and digits[10] in "012" and luhn_ok(digits)
    )


def ramq_ok(text: str) -> bool:
    """A Quebec health-insurance number (NAM): four letters of the name, then the birth date
    (month plus 50 for women) and two digits."""
    digits = _digits(text)
    return len(digits) == 8 and _calendar_day(digits[:6], month_offsets=(0, 50))


def nric_ok(text: str) -> bool:
    """Singapore NRIC or FIN: a prefix letter, seven digits and a check letter."""
    value = text.upper()
    weights = (2, 7, 6, 5, 4, 3, 2)
    total = sum(int(d) * w for d, w in zip(value[1:8], weights, strict=True))
    total += 4 if value[0] in "TG" else 0
    letters = "JZIHGFEDCBA" if value[0] in "ST" else "XWUTRQPNMLK"
    return letters[total % 11] == value[8]


def _dihedral(j: int, k: int) -> int:
    """Product in the dihedral group D5, as Verhoeff numbers its ten elements."""
    if j < 5:
        return (j + k) % 5 + (5 if k >= 5 else 0)
    return (j - k) % 5 + (5 if k < 5 else 0)


_VERHOEFF_D = tuple(tuple(_dihedral(j, k) for k in range(10)) for j in range(10))
# Each row of the permutation table applies the second row once more.
_VERHOEFF_P: list[tuple[int, ...]] = [
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 5, 7, 6, 2, 8, 3, 0, 9, 4),
]
while len(_VERHOEFF_P) < 8:
    _VERHOEFF_P.append(tuple(_VERHOEFF_P[1][j] for j in _VERHOEFF_P[-1]))


def verhoeff_ok(digits: str) -> bool:
    """Digits whose last is their Verhoeff check digit."""
    check = 0
    for i, digit in enumerate(reversed(digits)):
        check = _VERHOEFF_D[check][_VERHOEFF_P[i % 8][int(digit)]]
    return check == 0


def matricule_ok(text: str) -> bool:
    """Luxembourg national number: a birth date (YYYYMMDD), three digits, then a Luhn check
    digit and a Verhoeff check digit, each of the first eleven."""
    digits = _digits(text)
    return (
        len(digits) == 13
        and _calendar_day(digits[2:8])
        and luhn_ok(digits[:12])
        and verhoeff_ok(digits[:11] + digits[12])
    )


def age_over_89(text: str) -> bool:
    """Ages over 89 identify (HIPAA Safe Harbor aggregates them); younger ages are clinical."""
    found = re.search(r"\d{2,3}", text)
    return found is not None and 90 <= int(found.group()) <= 125


def _rx(pattern: str, flags: int = 0) -> re.Pattern[str]:
    return re.compile(pattern, flags)


_I = re.IGNORECASE

RULES: tuple[Rule, ...] = (
    # --- national numbers -------------------------------------------------------------------
    # French NIR: sex, year, month, department (2A/2B), commune, order, key; spaced or not.
    Rule(
        NUMERO_SECU,
        _rx(
            r"(?<![\dA-Za-z])(?P<id>[1278][\s.]?\d{2}[\s.]?(?:0[1-9]|1[0-2]|[2-9]\d)[\s.]?"
            r"(?:\d{2}|2[ABab])[\s.]?\d{3}[\s.]?\d{3}[\s.]?\d{2})(?![\dA-Za-z])"
        ),
        0.95,
        nir_key_ok,
    ),
    # A NIR without its key, or any number, behind a label that says what it is.
    Rule(
        NUMERO_SECU,
        _rx(
            r"\b(?:NIR|INS|n°\s*(?:de\s+)?(?:s[ée]cu(?:rit[ée]\s+sociale)?|SS)|s[ée]cu(?:rit[ée]\s+sociale)?|"
            r"carte\s+vitale|num[ée]ro\s+(?:de\s+)?s[ée]cu(?:rit[ée]\s+sociale)?|"
            r"NHS\s*(?:number|no\.?|n°|#)?|SSN|social\s+security(?:\s+(?:number|no\.?|#))?|"
            r"medicare(?:\s+(?:number|no\.?|card|#|id|beneficiary\s+identifier))?|MBI|PPSN|PPS\s+(?:number|no\.?)|"
            r"health\s+(?:card|insurance)\s+(?:number|no\.?)|IHI|CHI(?:\s+(?:number|no\.?))?|"
            r"NISS|(?:n°\s*)?AVS|SNS(?:\s+(?:no\.?|n°|number))?|n[úu]mero\s+de\s+utente|AHV|NAM|RAMQ|PHN|AHCIP|OHIP|(?:personal\s+|provincial\s+)?health\s+"
            r"(?:number|no\.?|#)|national\s+(?:register|insurance)\s+(?:number|no\.?)|"
            # Health-insurance and identity numbers of other countries, by their label.
            r"matricule|CAFAT|CNSS|NHIF|AMO(?:\s*/\s*CNSS)?|CNAMT?|(?-i:TRN|NHIS|NIN|NRIC|IC|CIN|CNI|NNI)|"
            r"PhilHealth(?:\s+(?:PIN|no\.?|number))?|(?-i:PIN)(?=\s*:)|Aadhaar|Ghana\s+card|"
            r"national\s+id(?:entity)?(?:\s+(?:number|no\.?|card))?|identity\s+(?:card|number)|"
            r"carte\s+(?:d['’]identit[ée]|nationale)(?:\s+nationale)?|n°\s*(?:d['’])?assur[ée])\b"
            r"(?:\s*\((?:as\s+given|tel\s+que\s+donn[ée]|d[ée]clar[ée])\))?"
            r"\s*(?:[:#=?]|n°|no\.?|is|:)?\s*"
            r"(?P<id>(?-i:[0-9A-Z](?:[0-9A-Z \-]|\.(?=[0-9A-Z])){5,22}[0-9A-Z]))(?![\dA-Za-z])",
            _I,
        ),
        0.9,
        lambda value: sum(c.isdigit() for c in value) >= 6,
    ),
    # NHS number, 3-3-4, with its check digit.
    Rule(NUMERO_SECU, _rx(r"(?<![\d-])(?P<id>\d{3}[ -]?\d{3}[ -]?\d{4})(?![\d-])"), 0.7, nhs_ok),
    # US SSN 3-2-4.
    Rule(NUMERO_SECU, _rx(r"(?<![\d-])(?P<id>\d{3}-\d{2}-\d{4})(?![\d-])"), 0.85, ssn_ok),
    # US Medicare beneficiary identifier (MBI), with or without dashes.
    Rule(
        NUMERO_SECU,
        _rx(
            r"(?<![\dA-Z])(?P<id>[1-9][AC-HJKMNP-RT-Y][AC-HJKMNP-RT-Y0-9]\d-?"
            r"[AC-HJKMNP-RT-Y][AC-HJKMNP-RT-Y0-9]\d-?[AC-HJKMNP-RT-Y]{2}\d{2})(?![\dA-Z])"
        ),
        0.85,
    ),
    # Australian Medicare number, 4-5-1 with an optional issue digit.
    Rule(NUMERO_SECU, _rx(r"(?<![\d])(?P<id>[2-6]\d{3}\s\d{5}\s\d(?:[\s-]?\d)?)(?!\d)"), 0.8),
    # Irish PPSN.
    Rule(NUMERO_SECU, _rx(r"(?<![\dA-Za-z])(?P<id>\d{7}[A-W][A-IW]?)(?![\dA-Za-z])"), 0.8),
    # Belgian NISS (YY.MM.DD-XXX.CC), Swiss AVS (756.XXXX.XXXX.XX), South African identity
    # number (YYMMDD SSSS CAZ), Quebec NAM (LLLL YYMM DDXX): each with its own check.
    Rule(
        NUMERO_SECU,
        _rx(r"(?<![\d.\-])(?P<id>\d{2}\.?\d{2}\.?\d{2}[\-.\s]?\d{3}[.\s]?\d{2})(?![\d.\-]\d)"),
        0.85,
        niss_ok,
    ),
    Rule(
        NUMERO_SECU,
        _rx(r"(?<![\d.])(?P<id>756[.\s]?\d{4}[.\s]?\d{4}[.\s]?\d{2})(?![\d.]\d)"),
        0.9,
        ean13_ok,
    ),
    Rule(
        NUMERO_SECU,
        _rx(r"(?<![\d\-])(?P<id>\d{6}\s?\d{4}\s?\d{3})(?![\d\-])"),
        0.85,
        sa_id_ok,
    ),
    Rule(
        NUMERO_SECU,
        _rx(r"(?<![\w])(?P<id>[A-Z]{4}\s?\d{4}\s?\d{4})(?![\w])"),
        0.8,
        ramq_ok,
    ),
    # Singapore NRIC/FIN with its check letter; Luxembourg's matricule, a birth date first.
    Rule(NUMERO_SECU, _rx(r"(?<![\w])(?P<id>[STFG]\d{7}[A-Z])(?![\w])"), 0.9, nric_ok),
    Rule(
        NUMERO_SECU,
        _rx(r"(?<![\d.\-])(?P<id>(?:19|20)\d{2}\s?\d{4}\s?\d{3}\s?\d{2})(?![\d\-]|\.\d)"),
        0.8,
        matricule_ok,
    ),
    # --- hospital record numbers ------------------------------------------------------------
    # A ticket's reference opening its line before a column, a dash or a colon ("BIOMED-1184 |
    # Infusion pump", "INC0048817 – pompe").
    Rule(
        NUMERO_DOSSIER,
        _rx(r"(?:^|(?<=\n))[ \t]*(?P<id>(?-i:[A-Z]{2,8})-?\d{3,10})(?=[ \t]*[|–—:][ \t])"),
        0.6,
    ),
    # A number asked for by its label and given on the next line of a chat ("IPP ?" …
    # "71100482, scanner du 11/02").
    Rule(
        NUMERO_DOSSIER,
        _rx(
            r"\b(?:IPP|NDA|MRN|dossier|s[ée]jour|chart|record|hospital\s+number|patient\s+id)"
            r"\s*\?[^\n\d]{0,40}\n[^\n]{0,40}?(?<![\d:/.])(?P<id>\d{6,12})(?![\d/.:])",
            _I,
        ),
        0.6,
    ),
    Rule(
        NUMERO_DOSSIER,
        _rx(
            r"\b(?:IPP|NIP|NDA|MRN|UR(?:N)?|EPP|CSN|HAR|FIN|EMPI|PID|RPPS|ADELI|N°\s*IPP|n°\s*(?:de\s+)?(?:dossier|s[ée]jour|patient|"
            r"admission|venue|passage|archive)|(?:num[ée]ro|no\.?|n°)\s+(?:de\s+)?(?:dossier|s[ée]jour|"
            r"patient|venue|passage|admission)|dossier(?:\s+(?:m[ée]dical|patient|n°|no\.?|num[ée]ro))?|"
            r"s[ée]jour(?:\s+(?:n°|no\.?|num[ée]ro))?|venue|patient\s*(?:id|n°|no\.?|number|num[ée]ro|#)|"
            r"medical\s+record(?:\s+(?:number|no\.?|#))?|record\s+(?:number|no\.?|#)|"
            r"hosp(?:ital)?\.?\s*(?:number|no\.?|n°|#|id)|charts?(?:\s+(?:number|no\.?|#))?|"
            r"specimen|accession(?:\s+(?:number|no\.?|#))?|acc\.?|pr[ée]l[èe]vement|"
            r"n°\s*(?:de\s+|d['’])?(?:[ée]chantillon|demande|pr[ée]l[èe]vement)|sample(?:\s*(?:id|no\.?|number|#))?|"
            r"file\s*(?:number|no\.?|#)|unit\s*(?:number|no\.?|#)|unit(?=\s+(?-i:[A-Z]{1,3})\s?\d{2}(?:\s\d{2}){2})|NHI|"
            r"r[ée]f(?:[ée]rence)?\.?\s*(?:patient|dossier)|patient\s+ref(?:erence)?\.?|"
            r"(?:our|your|notre|votre)\s+r[ée]f(?:[ée]rence)?\.?|(?-i:[NV])/\s?r[ée]f\.?|"
            r"member\s+(?:id|no\.?|number|#)|(?:n°\s*)?adh[ée]rent(?:\s+mutuelle)?|(?:n°\s*(?:de\s+)?)?d[ée]pistage|"
            r"file(?=\s+(?-i:[A-Z]{1,5}(?:-[A-Z]{1,5})?)-?\d{2})|claim(?:\s+(?:number|no\.?|#))?|affaire(?:\s+n°)?|"
            r"incident\s*(?:no\.?|n°|number|#)|ticket(?:\s+(?-i:[A-Z]{2,6})(?![\w\-]))?|client(?=\s+(?-i:[A-Z]{1,4})-?\d{3})|work\s+order|"
            r"(?:participant|subject|screening)\s*(?:id|no\.?|number|#)|participant(?=\s+[A-Z]{1,4}-\d)|sujet|n°\s*(?:d['’])?inclusion|"
            r"acc(?:oun)?t\.?(?:\s+(?:number|no\.?|#))?|encounter(?:\s+(?:number|no\.?|#|id))?|"
            r"visit(?:\s+(?:number|no\.?|#|id))|case\s+(?:number|no\.?|#)|"
            r"[ée]pisode(?:\s*(?:number|no\.?|#|n°))|n°\s*d['’][ée]pisode|EHR\s*(?:id|#|number)|EMR\s*(?:id|#|number)|PAS\s*(?:number|no\.?|#)|"
            r"folder(?:\s+(?:number|no\.?|#))?|UHID|(?-i:IP)(?:\s*(?:no\.?|number|#))?|"
            r"(?-i:CRN|IEP|HN|MR(?=\s*#))|med(?:ical)?\.?\s+rec(?:ord)?\.?\s*(?:number|no\.?|#)|"
            r"(?:n°|num[ée]ro)\s*d['’]hospitali[sz]ation|lab\s*(?:id|no\.?|number|#)|"
            r"requisition(?:\s*(?:number|no\.?|#))?|req\.?\s*(?:no\.?|#)|bon\s*n°|barcode|"
            r"code[\s\-]barres?|wristband|bracelet|order\s*(?:number|no\.?|#)|(?-i:Rx)\s*#|"
            r"prescription\s*(?:number|no\.?|#|n°)|n°\s*(?:de\s+)?r[ée]sident|courrier\s+r[ée]f\.?|(?:ma|mon|my)\s+r[ée]f(?:[ée]rence)?\.?|(?:pt|patient|ID)(?=\s*#)|"
            r"reg(?:istration|n)?\.?\s*(?:number|no\.?|#)|(?:demande|requ[eê]te|request|lab)\s*(?:n°|no\.?|number|#)|"
            r"(?:n°\s*(?:d['’])?|num[ée]ro\s+d['’])?examen(?:\s+(?:biologique|radiologique|d['’]imagerie))?(?:\s*n°)?|exam(?:ination)?\s*(?:no\.?|number|#|id)|"
            r"r[ée]f(?:[ée]rence)?\.?\s*(?:interne|cabinet|dossier|patient|client)|(?:inquest|coroner)\s*ref(?:erence)?\.?|"
            r"ordonnance\s*n°|n°\s*(?:d['’])?ordonnance|n°\s*HAD|acc\.?\s*no\.?|intervention\s*(?:#|n°|no\.?)|"
            r"e-?consult\s*(?:#|no\.?|ref\.?)|job(?:\s*(?:no\.?|number|#))?|(?:sous\s+le|sous)\s+n°|"
            r"dossier\s+hospitalier(?:\s+n°)?|(?:[A-Z]+_)?AFFAIRE|request(?=\s+[A-Z]{1,4}\s?\d)|"
            # "N° FEI : 2024/0883", "episode 4471029" (a bare "ref" is as often a device's)
            r"(?:n°\s*)?(?-i:FEI)|[ée]pisode(?=\s+\d{6,}))"
            r"[\"']?\s*(?:\([A-Z]{2,5}\))?\s*(?:\(\s*(?=n°))?(?:[:#=]{1,2}|n°|no\.?|number|is|c['’]est|est|(?-i:c)(?=\s+\d{5}))?\s*#?\s*[\"']?"
            r"(?P<id>\d{1,3}(?:[.\s]\d{3}){2,3}(?![.\s]?\d)|\d{2,4}(?:\s\d{2,4}){1,4}(?!\s?\d)|"
            r"(?-i:[A-Z]{1,5}\d?)\s(?:\d{3,10}|\d{2}(?=[\-/]\d))(?:[\s\-/]\d{1,6}){0,2}(?![\s\-/]?\d)"
            r"(?:\s(?-i:[A-Z])(?![\w\-]))?|"
            r"(?-i:[A-Z]{2,5})\s\d{2,4}(?:\s\d{2,6}){1,3}(?![\s\-/]?\d)(?:\s(?-i:[A-Z])(?![\w\-]))?|"
            r"\d{2}\s(?-i:[A-Z])\s\d{4,8}(?![\s\-/]?\d)|"
            r"(?=[A-Z0-9\-/.]*\d)[A-Z0-9](?:[A-Z0-9\-/]|\.(?=[A-Z0-9])){3,24})"
            # Not a volume or a mass ("specimen 12.5 mL").
            r"(?![\w])(?!\s*(?:m?l|ml|mg|µ[lg]|g|mmol|%|cm|mm|kg|ui|iu|u)\b)",
            _I,
        ),
        0.9,
    ),
    # RPPS (11 digits) and ADELI (9 digits) numbers, however they are spaced ("46 1 04 512 3").
    Rule(
        NUMERO_DOSSIER,
        _rx(r"\b(?:RPPS|ADELI)\s*(?:n°|no\.?|:|#)?\s*(?P<id>\d(?:[\s.]?\d){8,10})(?![\d])"),
        0.85,
    ),
    # A record label, then a few words, then the number ("l'IPP est 12345678", "MRN for the
    # patient is 12345678", "IPP (12345678)"): the label in capitals, six digits or more.
    Rule(
        NUMERO_DOSSIER,
        _rx(
            r"\b(?:IPP|NDA|MRN|NIP|IEP|UHID|URN|CRN|CSN|EMPI)\b[^\d\n]{0,25}?(?<![\d/.:\-])"
            r"(?P<id>\d{6,12})(?![\d/:]|[.,\-]\d)"
        ),
        0.7,
    ),
    # A bare number of six digits or more right after the patient ("patient 445566 had").
    Rule(
        NUMERO_DOSSIER,
        _rx(r"\b(?i:patiente?|pt)\s+(?P<id>\d{6,12})(?![\d/.,:]\d|[\w/])"),
        0.7,
    ),
    # A record number in the address of a hospital system's page ("…/patients/30418872/…").
    Rule(
        NUMERO_DOSSIER,
        _rx(
            r"/(?:patients?|dossiers?|records?|charts?|mrn|ipp|encounters?|s[ée]jours?)/"
            r"(?P<id>[A-Z0-9\-]*\d{5}[A-Z0-9\-]*)(?![\w])",
            _I,
        ),
        0.85,
    ),
    # A code of a few letters and six or more digits ("H4402817", "RBH0083341") is a record
    # number, except the FDA's submission numbers (K233549, DEN200019, P190001).
    Rule(
        NUMERO_DOSSIER,
        _rx(r"(?<![\w\-/.])(?P<id>(?!K\d{6}\b|DEN\d{6}\b|P\d{6}\b)[A-Z]{1,4}\d{6,12})(?![\w\-])"),
        0.6,
    ),
    # A code of capitals and digit groups with six digits or more ("RX-26-118402",
    # "INC-BE-26-0276", "RAD26-447120", "MLA/26/0931"): how systems number examinations,
    # requests, tickets and cases. Not the codes that name a device, a standard or a
    # lot: after lot, serial, model, reference or UDI, or led by ISO, IEC, EN, NF…
    Rule(
        NUMERO_DOSSIER,
        _rx(
            # After a device's label the code is the device's: matched with its label as
            # ``guard`` so that it is skipped, not found again without it.
            r"(?:(?P<guard>\b(?i:lot|batch|s/?n|serial|s[ée]rie|num[ée]ro\s+de\s+(?:s[ée]rie|lot)|"
            r"n°\s*de\s*(?:s[ée]rie|lot)|r[ée]f(?:[ée]rence)?|model|mod[èe]le|catalog(?:ue)?|UDI|"
            r"version|firmware|logiciel|software|fabricant|manufacturer|part|pi[èe]ce)"
            r"(?:\s+(?i:no|number|n°|fabricant|manufacturer))?[\s.:#°]*)|(?<![\w\-/.]))"
            r"(?P<id>(?!(?:ISO|IEC|CEI|EN|NF|ASTM|AAMI|IEEE|COVID|SARS|ATC|ICD|CIM|IMDRF|MDR|IVDR|"
            r"UDI|GMDN|EMDN|CE|DEN|PMA|K|FSCA|FSN|MIR|PSUR|ANSM|MHRA|FDA|EUDAMED|SN|REF|LOT|FW|SW|HW|"
            r"V|VER|Z|CAPA|CVE|DOC|JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)\b|"
            r"(?:ISO|IEC|COVID|SARS)[\-/])"
            r"(?=(?:[A-Z\-/]*\d){6})[A-Z]{1,5}\d{0,4}(?:-[A-Z]{2,4})?(?:[\-/]\d{2,8}){1,3}(?:-[A-Z])?)"
            r"(?![\w\-/])"
        ),
        0.6,
    ),
    # The reference of an incident, a case or a report, whatever its shape ("Datix ref
    # W-226104", "Incident ref: DX-779938", "Cas n° CREX-26-41", "ePRF 2611-NWAS-058817",
    # "study ID VIG-BE-0193", "dossier de régulation 36-2611-01458"): a reference after a device's
    # label is the device's and is left to the rule above.
    Rule(
        NUMERO_DOSSIER,
        _rx(
            r"\b(?:(?:incident|datix|event|[ée]v[ée]nement|case|cas|signalement|d[ée]claration|FEI|EI|"
            r"CREX|RMM|M&M|ANSM|MHRA|HPRA|report|rapport|ticket|GLPI|study|[ée]tude|trial|essai)"
            r"\s*(?:ref(?:erence)?|r[ée]f(?:[ée]rence)?|n°|no\.?|#|number|num[ée]ro|id|code)\.?|"
            r"(?-i:e?PRF)|(?:dossier|n°|num[ée]ro)\s+(?:de\s+)?r[ée]gulation|"
            r"(?:affaire|dossier)\s+(?:ARS|ANSM)|(?:case|cas)(?=\s+(?-i:[A-Z]{2,6}(?:[\-/][A-Z]{2,6})?)[\-/]\d)|"
            r"(?:fiche\s+)?(?-i:CREX|FEI|RMM|Datix|DATIX)(?=\s+[A-Z0-9\-/]*\d{2})|fiche\s+(?-i:EI)(?=\s+\d)|(?:ANSM|MHRA|HPRA|datix|incident|signalement|"
            # At most one word between: "Déclaration ANSM faite (réf …)", not "… concernant
            # pompe réf. 8015-100", a device's reference.
            r"d[ée]claration)(?:\s+(?:ANSM|MHRA|HPRA|faite?|made|filed|report))?\s*\(?\s*"
            r"(?:ref(?:erence)?|r[ée]f(?:[ée]rence)?)\.?)"
            r"\s*[:#]?\s*(?:n°\s*)?"
            r"(?P<id>(?!(?:0?[1-9]|1[0-2])/(?:19|20)\d{2}(?![\w\-/]))(?=(?:[A-Z\-/]*\d){3})(?!(?:ISO|IEC|EN|NF|CE|UDI|SN|LOT|REF|V|FW|SW)\b)"
            r"[A-Z0-9]+(?:[\-/][A-Z0-9]+){0,4})(?![\w\-/])",
            _I,
        ),
        0.7,
    ),
    # The sheet of an adverse-event report, its acronym with it ("FEI 25-2208", "CREX 25-07").
    Rule(
        NUMERO_DOSSIER,
        _rx(
            r"\b(?P<id>(?:CREX|FEI|RMM|EI)[\s\-](?!(?:0?[1-9]|1[0-2])/(?:19|20)\d{2}\b)"
            r"\d{2,4}[\-/]\d{2,6})(?![\w\-/])"
        ),
        0.7,
    ),
    # "n° OR-26-8841": a number with letters and dashes, after n° alone.
    Rule(
        NUMERO_DOSSIER,
        _rx(
            r"(?:(?P<guard>\b(?i:lot|batch|s[ée]rie|serial|mod[èe]le|model|r[ée]f(?:[ée]rence)?|ref)\.?\s*)|\b)"
            r"n°\s*(?P<id>[A-Z]{1,4}-\d{2,4}-\d{3,8}|[A-Z]{1,5}(?:-[A-Z]{1,5})?-\d{3,8})(?![\w\-])"
        ),
        0.7,
    ),
    # A code of digits, capitals and digits ("2025-BIO-001944", "2611-NWAS-058817").
    Rule(
        NUMERO_DOSSIER,
        _rx(
            r"(?<![\w\-/.])(?P<id>\d{2,4}[\-/](?!(?:JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|SEPT|OCT|NOV|DEC|"
            r"JANV|F[EÉ]V|AVR|MAI|JUIN|JUIL|AO[UÛ]|D[EÉ]C)[\-/])[A-Z]{2,5}[\-/]\d{3,8})(?![\w\-/])"
        ),
        0.6,
    ),
    # Keys of a JSON export ("family": "Mbengue-Thiombane", "given": ["Awa"], "postalCode":
    # "17000", "birthDate": …), and the id of a FHIR Patient resource.
    Rule(
        NOM,
        _rx(
            r"[\"'](?:family|given|nom|pr[ée]nom|nom_?(?:usage|naissance|famille)|last_?name|"
            r"first_?name|lastName|firstName|surname|forename|patient_?name|patientName)[\"']\s*:\s*"
            r"\[?\s*[\"'](?P<id>[^\"'\n]{1,60})[\"']",
            _I,
        ),
        0.85,
    ),
    Rule(
        ADRESSE,
        _rx(
            r"[\"'](?:line(?=[\"']\s*:\s*\[)|street|address(?:_?line\d?)?|adresse|postal_?code|postalCode|zip(?:_?code)?|"
            r"code_?postal|cp|city|ville|commune|town)[\"']\s*:\s*\[?\s*[\"'](?P<id>[^\"'\n]{2,80})[\"']",
            _I,
        ),
        0.8,
    ),
    Rule(
        NUMERO_DOSSIER,
        _rx(
            r"[\"']resourceType[\"']\s*:\s*[\"']Patient[\"']\s*,\s*[\"']id[\"']\s*:\s*"
            r"[\"'](?P<id>[^\"'\n]{3,64})[\"']"
        ),
        0.85,
    ),
    Rule(
        NUMERO_DOSSIER,
        _rx(
            r"<(?P<tag>ipp|nda|nip|mrn|patient_?id|id_?patient|num(?:ero)?_?dossier|dossier|"
            r"hospital_?number|record_?number)>(?P<id>[^<>\n]{3,40})</(?P=tag)>",
            _I,
        ),
        0.85,
    ),
    # The login of a user in a log ("user=cgaillardet", "utilisateur : mdurand").
    Rule(
        NOM,
        _rx(
            r"\b(?:user(?:name)?|login|utilisateur|op[ée]rat(?:or|eur)|uid)\s*[=:]\s*"
            r"(?!(?:admin|root|system|syst[èe]me|service|patient|technicien|infirmi\w*|m[ée]decin|"
            r"user|guest|test|operator|unknown|inconnu|aucun|none|null)\b)"
            r"(?P<id>[a-z][a-z0-9._\-]{3,30})(?![\w@])",
            _I,
        ),
        0.75,
    ),
    # XML elements ("<nom>Quintard</nom>", "<age_ans>93</age_ans>", "<date_naissance>…").
    Rule(
        NOM,
        _rx(
            r"<(?P<tag>patient_?name|(?:patient_?)?(?:nom|prenom|pr[ée]nom|family(?:_?name)?|given(?:_?name)?|"
            r"surname|forename|nom_?(?:usage|naissance|famille)|first_?name|last_?name))>"
            r"(?P<id>[^<>\n]{1,60})</(?P=tag)>",
            _I,
        ),
        0.85,
    ),
    Rule(
        DATE_NAISSANCE,
        _rx(
            r"<(?P<tag>(?:patient_?)?(?:date_?(?:de_?)?naiss(?:ance)?|ddn|dob|birth_?date|date_?of_?birth))>"
            rf"(?P<id>{DATE}|\d{{8}})</(?P=tag)>",
            _I,
        ),
        0.85,
    ),
    Rule(
        AGE,
        _rx(
            r"<(?P<tag>(?:patient_?)?(?:age|[âa]ge_?ans|age_?years))>(?P<id>\d{2,3})</(?P=tag)>", _I
        ),
        0.85,
        age_over_89,
    ),
    # A date of birth of which only the year is known ("DDN : --/--/1930", "DOB ??/??/1931").
    Rule(
        DATE_NAISSANCE,
        _rx(rf"\b{_DOB_LABEL}\s*[:.=]?\s*(?P<id>[\-?xX]{{2}}/[\-?xX]{{2}}/(?:19|20)\d\d)", _I),
        0.85,
    ),
    # DICOM header fields, by keyword or tag ("(0010,0010) PatientName: DOE^JANE").
    Rule(
        NOM,
        _rx(
            r"(?:\(0010,0010\)\s*)?\bPatient(?:['’]s)?\s?Name\s*(?:[:=]|\.{3,})\s*"
            r"(?P<id>[^\W\d_][\w'’\-]*(?:[\^ ][\w'’\-]+){0,4})",
            _I,
        ),
        0.9,
    ),
    Rule(
        DATE_NAISSANCE,
        _rx(
            rf"(?:\(0010,0030\)\s*)?\b(?:Patient(?:['’]s)?\s?)?Birth\s?Date\s*(?:[:=]|\.{{3,}})\s*"
            rf"(?P<id>{DATE})(?!\d)",
            _I,
        ),
        0.9,
    ),
    Rule(
        AGE,
        _rx(
            r"(?:\(0010,1010\)\s*)?\bPatient(?:['’]s)?\s?Age\s*(?:[:=]|\.{3,})\s*(?P<id>\d{3}Y)",
            _I,
        ),
        0.9,
        age_over_89,
    ),
    # --- dates of birth ---------------------------------------------------------------------
    Rule(
        DATE_NAISSANCE,
        _rx(
            rf"(?:\b|(?<=[(_])|(?<![\w°*])(?=[°*]))(?:{_DOB_LABEL})[\"'>]?\s*[:.\-=|]?\s*[\"']?\s*"
            r"(?:is\s+|was\s+|est\s+|:\s*)?(?:le\s+|on\s+|the\s+)?"
            r"(?P<id>(?:(?i:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|monday|tuesday|"
            r"wednesday|thursday|friday|saturday|sunday),?\s+)?"
            rf"{DATE})(?!\d)",
            _I,
        ),
        0.9,
    ),
    # "95 ans (01/02/1931)", "nonagénaire (01/1933)": the date of birth in brackets after the age.
    Rule(
        DATE_NAISSANCE,
        _rx(
            r"(?:\d{2,3}\s*(?:ans|yo|y/o|years?(?:[\s-]old)?|yrs?)|nonag[ée]naire|centenaire|"
            r"nonagenarian|centenarian)\s*\(\s*"
            rf"(?P<id>{DATE})\s*\)",
            _I,
        ),
        0.8,
    ),
    # "patiente de 1928", "un homme de 1931": the year of birth as French says it.
    Rule(
        DATE_NAISSANCE,
        _rx(
            r"\b(?:patiente?|homme|femme|monsieur|madame|dame|enfant|b[ée]b[ée])\s+de\s+"
            r"(?P<id>(?:18|19|20)\d{2})(?![\d/\-]|\.\d)",
            _I,
        ),
        0.8,
    ),
    # A header naming the date of birth among other fields ("Name/DOB: X / 04-11-1931",
    # "Nom / DDN : X – 12.03.1931"): the first date after it on that line.
    Rule(
        DATE_NAISSANCE,
        _rx(
            r"(?:\b|(?<=/))(?:D\.?O\.?B\.?|DDN|date\s+(?:de\s+naissance|of\s+birth)|birth\s*date)"
            rf"\s*(?:/[^:\n]{{0,20}}|\s[^:\n\d]{{1,20}})?:[^\n]{{0,60}}?(?<![\w/.\-])(?P<id>{DATE})(?!\d)",
            _I,
        ),
        0.8,
    ),
    # --- ages over 89 -----------------------------------------------------------------------
    Rule(
        AGE,
        _rx(
            r"(?<!\d)(?<!\d[,.])(?P<id>\d{2,3}\+?\s*[-/]?\s*"
            r"(?:(?i:ans|an\b|years?[- ]old|yrs?[- ]old|"
            r"(?:st|nd|rd|th)\s+(?:birthday|year)|(?:e|[èe]me)\s+(?:anniversaire|ann[ée]e)|printemps|"
            r"years?\b|yrs?\b|y/?o(?=[MFHmf]?\b)|y\.o\.?|year-old|y-o\b)|[aA]\b|y(?=[MFHmf]?\b)|"
            r"[MFHmf]\b))",
        ),
        0.85,
        age_over_89,
    ),
    Rule(
        AGE,
        _rx(
            r"(?P<id>\b(?:ninety|one\s+hundred|a\s+hundred|hundred|quatre-vingt-(?:dix|onze|douze|"
            r"treize|quatorze|quinze|seize|dix-sept|dix-huit|dix-neuf)|quatre\s+vingt\s+(?:dix|onze|douze|"
            r"treize|quatorze|quinze|seize|dix[\s-](?:sept|huit|neuf))|cent)"
            r"(?:[\s-](?:and[\s-])?(?:one|two|three|four|five|six|seven|eight|nine|et\s+un|un|deux|"
            r"trois|quatre|cinq|six|sept|huit|neuf))?[\s-]*(?:-?years?-old|years?\s+old|yo|ans)"
            r"|\b(?:nonag[ée]naire|nonagenarian|centenaire|centenarian|supercentenarian))",
            _I,
        ),
        0.85,
    ),
    # "F, 93," "M 93": the sex then the age, as in a handover line.
    Rule(
        AGE,
        _rx(
            r"(?<![\w/])(?:[MFHmf]|male|female|homme|femme)\s*[,/ ]\s*(?P<id>\d{2,3})(?![\d.,]\d)"
            r"(?!\s*(?:%|(?i:mg|ml|mm|cm|kg|g|mcg|µg|ui|iu|u|mmhg|bpm|min|h)\b))"
        ),
        0.75,
        age_over_89,
    ),
    # "Pt 93, lives alone", "Mme 94 ;", "centenarian, 101": a bare number right after the
    # person or the age word.
    Rule(
        AGE,
        _rx(
            r"\b(?:pt|patient|patiente|mrs?|ms|mme|m\.|nonag[ée]naire|nonagenarian|centenaire|"
            r"centenarian)\s*[,(]?\s*(?P<id>\d{2,3})\s*[,;:)]",
            _I,
        ),
        0.75,
        age_over_89,
    ),
    # "(b. 1933, 93)", "DOB 07/03/1936, 90 (…": a bare number right after the date of birth.
    Rule(
        AGE,
        _rx(
            rf"\b(?:DOB|DDN|b\.|born|n[ée]e?(?:\s+(?:le|en))?)\s*[:.]?\s*(?:{DATE})\s*[,;]\s*"
            r"(?P<id>\d{2,3})(?![\d.,/]\d|\s*(?:%|(?i:mg|ml|mm|cm|kg|g|bpm|min|h)\b))",
            _I,
        ),
        0.75,
        age_over_89,
    ),
    # "in her nineties", "in his late 90s": an age over 89 given as a decade.
    Rule(
        AGE,
        _rx(
            r"\bin\s+(?:his|her|their)\s+(?P<id>(?:(?:early|mid|late)[\s-]+)?(?:nineties|90s|"
            r"hundreds))",
            _I,
        ),
        0.75,
    ),
    Rule(
        AGE,
        _rx(
            r"(?:\b|(?<=_))(?:aged?\s*[:=]?|âg[ée]e?\s+de|ag[ée]e?\s+de|age\s+of|"
            r"[âa]ge[\"'>]?\s*[:=\-–]\s*[\"']?(?:[MFHmf](?=\d{2,3}\b))?|[âa]ge\s+(?=\d{2,3}\b)|"
            r"[âa]ge\s*\([^)\n]{1,12}\)\s*[:=]|age\s+at\s+[\w ]{2,15}?\s*:|"
            r"[âa]ge\s+[àa]\s+l['’]\w+\s*:|"
            r"(?:she|he|who|you|I)(?:'s|'re|'m|\s+is|\s+are|\s+am)(?:\s+now)?|(?:will|'ll)\s+be|hes|shes|"
            r"j['’]ai|vous\s+avez|tu\s+as|about|around|"
            r"at\s+the\s+age\s+of|[àa]\s+l['’][âa]ge\s+de|(?:man|woman|lady|gentleman)\s+of|"
            r"[âa]ge\s*/\s*(?:sex|sexe|gender|genre)\s*[:=]|turned|turns|vient\s+d['’]avoir|"
            r"approx(?:\.|imately)?|roughly|environ|"
            r"(?:elle|il)\s+a)\s*(?P<id>\d{2,3})(?!\d)",
            _I,
        ),
        0.85,
        age_over_89,
    ),
    # --- contact details --------------------------------------------------------------------
    Rule(EMAIL, _rx(r"(?<![\w.+\-])(?P<id>[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+)"), 0.95),
    # An e-mail address spelt out so that robots miss it ("ewan dot fraser at example dot org").
    Rule(
        EMAIL,
        _rx(
            # One run of spaces between words, the bracket inside it ("[at]"): two runs side
            # by side would be tried at every split of a long run of spaces.
            r"(?<![\w.\-])(?P<id>[\w\-]+(?:\s+(?:dot|point)\s+[\w\-]+){0,3}\s*(?:[\[(]\s*)?(?:at|arobase)"
            r"(?:\s*[\])])?\s*[\w\-]+(?:\s+(?:dot|point)\s+[\w\-]+){0,3}\s+(?:dot|point)\s+"
            r"(?:com|org|net|fr|uk|ie|be|ch|ca|au|nz|za|in|ng|de|edu|gov|nhs|io|info))(?![\w])",
            _I,
        ),
        0.85,
    ),
    # An Indian mobile, five and five digits from 6 to 9 ("98401 55023").
    Rule(TELEPHONE, _rx(r"(?<![\d\-/.,])(?P<id>[6-9]\d{4}\s\d{5})(?![\d\-/])"), 0.6),
    Rule(
        TELEPHONE,
        _rx(
            r"(?<![\w+])(?P<id>(?:\+|00)\d{1,3}[\s.\-]?(?:\(0\)[\s.\-]?)?\d{1,4}(?:[\s.\-]?\d{2,4}){2,4})"
            r"(?![\d])"
        ),
        0.8,
    ),
    Rule(TELEPHONE, _rx(r"(?<![\d,.])(?P<id>0[1-9](?:[\s.\-]?\d{2}){4})(?![\d])"), 0.85),
    Rule(
        TELEPHONE,
        _rx(r"(?<![\d])(?P<id>\(?\d{3}\)?[\s.\-]\d{3}[\s.\-]\d{4})(?![\d])"),
        0.7,
    ),
    Rule(TELEPHONE, _rx(r"(?<![\d\-/.])(?P<id>\d{3}-\d{4})(?![\d\-/])"), 0.5),
    # UK and Irish numbers (07700 900123, 020 7946 0958, 0161 496 0000), Australian mobiles.
    Rule(
        TELEPHONE,
        _rx(
            r"(?<![\d,.])(?P<id>0\d{2,4}[\s\-]?\d{3,4}[\s\-]?\d{3,4})(?![\d])",
        ),
        0.6,
    ),
    Rule(
        TELEPHONE,
        _rx(
            r"\b(?:t[ée]l(?:[ée]phone)?|tel|phone|mobile|portable|port\.?|cell|fixe|joignable\s+au|"
            r"ph|mob|contact|appeler\s+le|call(?:ed)?(?:\s+on)?)\s*[.:]?\s*(?:au\s+|on\s+)?"
            r"(?P<id>\+?[\d(][\d\s().\-]{6,18}\d)",
            _I,
        ),
        0.85,
    ),
    # An extension or a bleep ("poste 4 52 18", "ext 3862", "bip 4471").
    Rule(
        TELEPHONE,
        _rx(
            r"\b(?:poste|ext\.?|extension|bip|bleep|DECT|(?<=\()p\.(?=\s*\d\d[\s.]?\d\d\b))\s*[:.#]?\s*"
            r"(?P<id>\d(?:[\s.\-]?\d){2,5})(?![\d/.,:]\d|\s?(?:mg|ml|h|min|mmol|%))",
            _I,
        ),
        0.7,
    ),
    # --- postal addresses -------------------------------------------------------------------
    # A street number dictated ("domiciliée vingt-deux rue des Jardiniers à Chelles").
    Rule(
        ADRESSE,
        _rx(
            r"\b(?:domicili[ée]e?|habite|habitant|demeurant|r[ée]sidant|adresse|address|lives|living|"
            r"resides)"
            r"(?:\s+(?:au|at|on))?\s+"
            rf"(?P<id>{_SPOKEN_WORD}(?:[\s\-]+{_SPOKEN_WORD}){{0,4}}\s+(?:bis\s+|ter\s+)?"
            r"(?:rue|route|avenue|boulevard|chemin|impasse|all[ée]e|place|quai|cours|square|"
            r"street|road|lane|avenue|drive|close|crescent|terrace|way|grove|gardens|court)\b"
            rf"(?:\s+(?!{_STREET_STOP})[^\s,;()]+){{1,5}}?"
            r"(?:\s+(?:[àa]|in)\s+(?-i:[A-ZÀ-Ý])[\w'’\-]*(?:[\s\-](?-i:[A-ZÀ-Ý])[\w'’\-]*){0,2})?)"
            rf"(?=[,;()\n]|\.(?:\s|$)|\s*$|\s+{_STREET_STOP})",
            _I,
        ),
        0.75,
    ),
    Rule(
        ADRESSE,
        _rx(
            r"(?P<id>(?:(?:appartement|appt|apt|flat|unit|bât(?:iment)?\.?|bat\.?|building|BP|CS|"
            r"r[ée]sidence|r[ée]s\.|escalier|esc\.)\s*[\w\-]{0,12}[,\s]+|"
            # At most four of them: a run of them without a number is not tried at every start.
            r"(?:rez-de-chauss[ée]e|RDC|\d{1,2}(?:e|[èe]me|er)\s+[ée]tage)[,\s]+){0,4}"
            r"(?<![\d.])\d{1,4}(?:\s?(?:bis|ter|[A-Da-d]))?,?[ \t]+"
            r"(?:rue|route|avenue|av\.|bd|boulevard|chemin|ch\.|impasse|imp\.|all[ée]e|place|pl\.|rte|"
            r"quai|cours|square|sq\.|r[ée]sidence|lotissement|lot\.|lieu-dit|hameau|voie|passage|cit[ée]|"
            r"faubourg|fbg|rond-point|sentier|mont[ée]e|parvis|esplanade|villa|domaine|clos|boul|traverse|"
            # "av." ends on its full stop, which no word boundary follows.
            r"draille|calade)(?:(?<=\.)|\b\.?)"
            rf"(?:[ \-]+(?!{_STREET_STOP})[^\s,;()\"\[\]{{}}]+){{1,6}}?"
            # The building, staircase, floor and door after the street ("…, bâtiment C, 2e étage").
            r"(?:,\s*(?:b[âa]t(?:iment)?\.?|esc(?:alier)?\.?|porte|appt\.?|appartement|apt\.?|logement|"
            r"log\.|entr[ée]e|rez-de-chauss[ée]e|RDC|\d{1,2}(?:e|er|[èe]me)\s+[ée]tage)(?:\s*[\w\-]{1,6})?)*"
            r"(?:,?\s*(?:\d{5}|\d{2}\s\d{3}|(?-i:[A-Z]{1,2})-\d{4,5}|,\s*\d{4}(?=\s+(?-i:[A-ZÀ-Ý])))\s+"
            r"[A-ZÀ-Ýa-zà-ÿ][\w'’\-]*"
            r"(?:[ \-][A-ZÀ-Ý][\w'’\-]*){0,3}(?:\s+cedex(?:\s+\d{1,2})?)?"
            # A Canadian town, its province and postcode ("Québec QC G1V 2M2").
            r"|,\s*[A-ZÀ-Ý][\w'’\-]*(?:\s+(?-i:[A-Z]{2})|\s*\([A-ZÀ-Ý][\w\-]+\))?\s+"
            r"(?-i:[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z]\s?\d[ABCEGHJ-NPRSTV-Z]\d))?)"
            r"(?=[,;()\n]|\.(?:\s|$)|\s*$|\s+(?:et|and|puis|then|tel|tél|t[ée]l[ée]phone)\b"
            rf"|\s+{_STREET_STOP})",
            _I,
        ),
        0.85,
    ),
    Rule(
        ADRESSE,
        _rx(
            r"(?P<id>(?:(?:flat|apt\.?|apartment|unit|suite|ste\.?)\s*[\w\-]{1,6},?\s+)?"
            r"\d{1,5}[A-Za-z]?,?\s+(?:[A-Z][\w'’\-]*\.?\s+){1,3}"
            r"(?:Street|St|Road|Rd|Lane|Ln|Avenue|Ave|Grove|Close|Drive|Dr|Way|Court|Ct|Crescent|"
            r"Cres|Place|Pl|Gardens|Gdns|Terrace|Tce|Hill|Park|Row|Mews|Square|Sq|Boulevard|Blvd|"
            r"Walk|View|Rise|Parade|Highway|Hwy|Circle|Cir|Trail|Pike|Parkway|Pkwy|Green|Vale|"
            r"Heights|Meadows|Estate|Quay|Wharf|Yard)\b\.?"
            r"(?:,?\s*(?:(?:Apt|Apartment|Unit|Suite|Ste|Flat|#)\.?\s*[\w\-]{1,6},?\s*)?)?"
            r"(?:,?[ \t]*(?:[A-ZÀ-ÖØ-Þ\u0100-\u024f][\w'’\-]+\.?[ \t]?){1,3}){0,2}"
            r"(?:,?\s*(?:[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}|[A-Z]{2,3}\s+\d{4,5}(?:-\d{4})?|"
            r"\d{4,5}(?:-\d{4})?|[A-Z]\d{2}\s?[A-Z\d]{4}))?)"
            r"(?![\w])",
        ),
        0.8,
    ),
    # A door code, and a street named without its number after "lives on" ("code porte 4729B",
    # "He lives on Birchwood Street in Dayton").
    Rule(
        ADRESSE,
        _rx(
            r"\b(?:code\s+(?:porte|d['’]acc[èe]s|d['’]entr[ée]e|portail|immeuble)|digicode|"
            r"door\s*code|key\s*safe(?:\s+code)?|keysafe(?:\s+code)?|gate\s+code)\s*[:=]?\s*"
            r"(?P<id>(?=[A-Z#*]*\d)[A-Z0-9#*]{3,10})(?![\w])",
            _I,
        ),
        0.8,
    ),
    Rule(
        ADRESSE,
        _rx(
            r"\b(?i:lives|living|resides|residing|moved|who\s+lives)\s+(?i:on|in|at)\s+(?:the\s+)?"
            r"(?P<id>(?:[A-Z][\w'’\-]+\s+){1,3}(?:Street|St|Road|Rd|Lane|Avenue|Ave|Drive|Close|"
            r"Crescent|Way|Court|Grove|Terrace|Place|Gardens|Row|Mews|Boulevard|Blvd))\b"
        ),
        0.75,
    ),
    # The street first and the number after it, then a four-digit postcode and the town, as
    # in Belgium and Switzerland ("Rue de la Station 14 bte 3, 4000 Liège", "Place X 3, case
    # postale 112, 1005 Lausanne").
    Rule(
        ADRESSE,
        _rx(
            r"(?<![\w])(?P<id>(?:(?i:rue|avenue|av\.|chemin|ch\.|place|boulevard|bd|route|rte|quai|"
            r"all[ée]e|impasse|square|chauss[ée]e|dr[èe]ve|clos|rang|ruelle|sentier|passage|cit[ée]|"
            r"straat|laan|steenweg|weg|stra(?:ss|ß)e|gasse|via|viale|piazza|rua|travessa|largo|"
            r"avenida|calle|carrer|plaza|ul\.|ulica|al\.|aleja)\s+|"
            # One word in Swiss German and Dutch ("Bahnhofstrasse 12", "Kerkstraat 4").
            r"[A-ZÀ-Ý][\w\-]{0,40}(?:stra(?:ss|ß)e|gasse|weg|platz|straat|laan|plein|steenweg)\s+(?=\d))"
            r"(?:[^\s,;()\d]+\s+){0,5}?\d{1,4}[a-zA-Z]?"
            r"(?:\s*(?i:bte|bus|bo[iî]te|b\.)\s*\d{1,4})?"
            # A flat: Polish "m. 4", Portuguese "2.º Esq." (read "2.o" or "2.0" once visible).
            r"(?:,?\s*(?:m\.\s*\d{1,4}|\d{1,2}\.?[º°o0]\s*(?i:esq|dto|dt|dir)\.?))?"
            r"(?:,\s*(?i:case\s+postale|c\.?p\.|postfach)\s*\d{1,6})?"
            # Four digits (Belgium, Switzerland), Portuguese "4990-012", Polish "80-827".
            r",?\s+(?:[A-Z]{1,2}-)?(?:\d{4}(?:-\d{3})?|\d{2}-\d{3})\s+[A-ZÀ-Ý][\w'’\-]*"
            r"(?:[ \t](?:de[ \t]|do[ \t]|da[ \t])?[A-ZÀ-Ý][\w'’\-]*){0,2}"
            r"(?:,\s*(?:Portugal|Pologne|Poland|Polska|Belgique|Belgium|Suisse|Switzerland|"
            r"Espagne|Spain|Italie|Italy|Allemagne|Germany|Luxembourg|Autriche|Austria))?)"
            r"(?![\w])"
        ),
        0.8,
    ),
    # A Canadian postcode, with the province before it ("Olds AB T4H 1P3",
    # "Sainte-Adèle (Québec) J8B 1A4"): the lines before it are found from there.
    Rule(
        ADRESSE,
        _rx(
            r"(?<![\w])(?P<id>(?:(?:AB|BC|MB|NB|NL|NS|NT|NU|ON|PE|QC|SK|YT)\s+|"
            r"\((?:Qu[ée]bec|Ontario|Alberta|Manitoba|Saskatchewan|Nouveau-Brunswick|"
            r"New\s+Brunswick|Nova\s+Scotia|Nouvelle-[ÉE]cosse|Colombie-Britannique|British\s+Columbia)"
            r"\)\s+)?[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z]\s?\d[ABCEGHJ-NPRSTV-Z]\d)(?![\w])"
        ),
        0.75,
    ),
    # A town and an Indian six-digit PIN code after the lines of an address ("…, Kachiguda,
    # Hyderabad 500027").
    Rule(
        ADRESSE,
        _rx(r"(?<=,)\s*(?P<id>[A-Z][a-z]+(?:\s[A-Z][a-z]+)?\s[1-9]\d{2}\s?\d{3})(?![\w\-/.])"),
        0.7,
    ),
    # A street without its number, then a town and its postal district ("Eccles Street,
    # Dublin 7", "Kings Road, Brighton BN1 2AA").
    Rule(
        ADRESSE,
        _rx(
            r"(?<![\w'’\-])(?P<id>(?:[A-Z][\w'’\-]+\s+){1,3}(?:Street|St|Road|Rd|Lane|Avenue|Ave|Drive|"
            r"Place|Square|Terrace|Crescent|Parade|Quay|Row|Way|Gardens|Close|Grove)\.?,\s*"
            r"[A-Z][\w'’\-]+(?:\s+(?:upon\s+|on\s+|under\s+)?[A-Z][\w'’\-]+){0,2}\s+"
            r"(?:\d{1,2}W?|[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}|"
            r"[A-Z]\d{2}\s?[A-Z\d]{4}))(?![\w])"
        ),
        0.7,
    ),
    # A UK postcode, an Irish Eircode, or a French postcode followed by a town.
    Rule(ADRESSE, _rx(r"(?<![\w])(?P<id>[A-Z]{1,2}\d[A-Z\d]?\s\d[A-Z]{2})(?![\w])"), 0.75),
    # An Australian state and postcode ("Alice Springs NT 0870").
    Rule(
        ADRESSE,
        _rx(r"(?<![\w])(?P<id>(?:NSW|VIC|Vic|QLD|Qld|SA|WA|TAS|Tas|NT|ACT)\s+\d{4})(?![\w\-/.])"),
        0.7,
    ),
    # A US state and ZIP code ("NY 12401-6632"): the lines before it are found from there.
    Rule(ADRESSE, _rx(r"(?<![\w])(?P<id>[A-Z]{2}\s\d{5}(?:-\d{4})?)(?![\w-])"), 0.7),
    Rule(
        ADRESSE,
        _rx(r"(?<![\w])(?P<id>[AC-FHKNPRTV-Y]\d{2}\s?[AC-FHKNPRTV-Y\d]{4})(?![\w])"),
        0.6,
        lambda value: sum(c.isdigit() for c in value) >= 3,
    ),
    Rule(
        ADRESSE,
        _rx(
            r"(?<![\w,.])(?P<id>(?:(?:BP|CS|B\.P\.|TSA)\s*\d{2,6}\s*[–—\-,]?\s*)?"
            r"\d{5}[ \t]+(?!(?i:UI|IU|U|unit[ée]s?|units?|mg|ml|mmol|g)\b)[A-ZÀ-Ý][\w'’\-]*"
            r"(?:[ \-](?:sur|sous|en|les|lès|de|d'|la|le|"
            r"(?!(?i:cedex)\b)[A-ZÀ-Ý][\w'’\-]*)){0,4}(?:\s+(?i:cedex)(?:\s+\d{1,2})?)?)(?![\w])"
        ),
        0.7,
    ),
    Rule(
        ADRESSE,
        _rx(
            r"\b(?:domicil(?:i[ée]e?|e)\s+(?:au|à|a)|habite\s+(?:au|à|a)|demeurant\s+(?:au|à)|"
            r"adresse(?:\s+(?:de\s+la\s+patiente?|du\s+patient|du\s+domicile|personnelle))?\s*:|"
            r"domicile\s*:|address\s*(?::|(?=\s+\d))|lives\s+at|resides\s+at|home\s+address\s*:?|home\s*:|"
            r"scene\s*:|pick[\s\-]?up\s+(?:address|point)\s*:|lieu\s+d['’]intervention\s*:|"
            r"(?<![\w/])R/o)\s*"
            r"(?P<id>[^\n;()]{4,100}?)(?=[;()\n]|(?<!Brgy)(?<!\bNo)(?<!\bSt)(?<!\bimm)(?<!\bappt)(?<!\bApt)"
            r"\.\s(?!\d)|$|,\s(?:tel|tél|phone|né|born|DOB)|\s+(?:depuis|avec|with|since|sans|without|"
            r"until|jusqu|where|who|qui|lorsque|when|quand|mais|but|alone|seule?|has|have|had|is|"
            r"was|est|avait|[ée]tait|point|virgule)(?![\w'’]))",
            _I,
        ),
        0.75,
    ),
    Rule(
        ADRESSE,
        _rx(r"\b(?P<id>(?:lieu-dit|hameau|r[ée]sidence|lotissement)\s+[^\n,;()]{2,40})", _I),
        0.7,
    ),
    # An address led by its building or estate, in the comma-separated parts of North and West
    # Africa, the Levant, South and South-East Asia ("Villa 112, Sicap Liberté 6, Dakar",
    # "Résidence Al Amal, imm. 4, appt 12, Hay Riad, Rabat", "Door No. 12-4-88, Gandhi Nagar,
    # Tirupati 517501"): each further part starts with a capital, a number or a part word.
    Rule(
        ADRESSE,
        _rx(
            r"(?<![\w])(?P<id>(?:(?i:lot)\s+\d{1,4},\s*(?=(?i:lotissement)))?"
            r"(?:(?i:cit[ée]|villa|immeuble|imm\.|r[ée]sidence|lotissement|quartier|"
            r"door\s+no\.?|h\.\s?no\.?|house\s+no\.?|plot\s+no\.?|flat\s+no\.?)|Blk)"
            rf"\s*[\w{UP}][^\n,;()]{{0,30}}?"
            r"(?:,\s*(?!(?i:t[ée]l|phone|tel|mob|n[ée]e?\b|born|DOB|\d{1,3}\s*(?:ans|years?|yo|y/o)\b))"
            rf"(?:[\d{UP}]|(?i:bloc|imm|appt|apt|rue|n°|phase|brgy|étage|etage))"
            r"(?:[^\n,;().]|(?:(?<=Brgy)|(?<=imm)|(?<=appt)|(?<=No)|(?<=Ste)|(?<=St))\.){0,30}){1,5})"
            r"(?=[\n;().]|,\s|$)"
        ),
        0.7,
    ),
    # A street and town after a country's letter and postcode ("rue Émile Mayrisch, L-4240
    # Esch-sur-Alzette", "B-4000 Liège", "CH-1205 Genève").
    Rule(
        ADRESSE,
        _rx(
            r"(?<![\w])(?P<id>(?:(?:\d{1,4},?\s+)?(?i:rue|avenue|av\.|route|boulevard|bd|place|chemin|"
            r"all[ée]e|quai|impasse)\s+[^\n,;()\d]{2,40},?\s*)?"
            r"(?:L|B|CH|F|D|MC|LU)-\d{4,5}\s+[A-ZÀ-Ý][\w'’\-]*(?:\s+[A-ZÀ-Ý][\w'’\-]*){0,2})(?![\w])"
        ),
        0.75,
    ),
    # A Maltese address ("22, Triq il-Kbira, Żebbuġ ZBG 1304").
    Rule(
        ADRESSE,
        _rx(
            r"(?<![\w])(?P<id>(?:\d{1,4},?\s+)?Triq\s+[^\n,;()]{2,30}"
            rf"(?:,\s*[{UP}][\w'’\-]+(?:\s+(?![A-Z]{{3}}\s?\d)[{UP}][\w'’\-]+)?)?"
            r"(?:\s+[A-Z]{3}\s?\d{4})?)(?![\w])"
        ),
        0.75,
    ),
    # A named street and its town without a number ("Taft Avenue, Ermita, Manila 1000",
    # "3rd Parklands Avenue, Nairobi", "North Street, Kingston").
    Rule(
        ADRESSE,
        _rx(
            r"(?<![\w'’\-])(?P<id>(?:\d{1,3}(?:st|nd|rd|th)\s+)?(?:[A-Z][\w'’\-]+\s+){1,3}"
            r"(?:Street|Road|Avenue|Lane|Drive|Crescent|Boulevard|Highway)\.?"
            rf"(?:,\s*[{UP}][\w'’\-]+(?:\s+[{UP}][\w'’\-]+){{0,2}}){{1,2}}(?:\s+\d{{3,5}})?)(?![\w])"
        ),
        0.65,
    ),
    # --- dictated numbers -------------------------------------------------------------------
    # A year of birth dictated after "née en" ("née en vingt-huit", "born in nineteen thirty").
    Rule(
        DATE_NAISSANCE,
        _rx(
            rf"\b(?:n[ée]e?|born)\s+(?:en|in)\s+(?P<id>{_SPOKEN_WORD}(?:[\s\-]+{_SPOKEN_WORD}){{0,5}})",
            _I,
        ),
        0.7,
        spoken_year,
    ),
    # The age in brackets after a date of birth ("DOB 02/03/1930 (96)").
    Rule(
        AGE,
        _rx(
            rf"\b{_DOB_LABEL}\s*[:.\-=]?\s*{DATE}\s*\(\s*(?P<id>\d{{2,3}}(?:\s*(?:ans|a|y|yo|yrs?|years?))?)\s*\)",
            _I,
        ),
        0.8,
        age_over_89,
    ),
    Rule(
        DATE_NAISSANCE,
        _rx(
            rf"\b{_DOB_LABEL}\s*[:.\-=]?\s*(?:le\s+|on\s+)?(?P<id>{SPOKEN})",
            _I,
        ),
        0.8,
        spoken_number,
    ),
    # The answer to a question that asked for the date of birth ("And your date of birth?"
    # "PATIENT: May the ninth, nineteen thirty-three.").
    Rule(
        DATE_NAISSANCE,
        _rx(
            rf"\b(?:date\s+of\s+birth|birth\s*date|DOB|date\s+de\s+naissance|n[ée]e?\s+quand)"
            rf"[^\n?]{{0,30}}\?[\s\-—]*(?:\n[A-Z][\w .]{{0,20}}:\s*)?(?P<id>{SPOKEN}|{DATE})",
            _I,
        ),
        0.8,
    ),
    # A telephone number dictated after an invitation to call ("rappelez au zéro six,
    # quarante-huit…", "ring me back on oh seven seven double oh…").
    Rule(
        TELEPHONE,
        _rx(
            r"\b(?:rappel\w*|appel\w*|joindre|joignable|t[ée]l[ée]phon\w*|ring|call|phone|reach|"
            r"text)(?:\s+(?:me|us|moi|nous|her|him|back)){0,3}(?:\s+(?:au|on|at|sur))?\s+"
            rf"(?P<id>(?:z[ée]ro|zero|oh|double)[\s,\-]+{SPOKEN})",
            _I,
        ),
        0.8,
        spoken_number,
    ),
    # "… a appelé l'astreinte au zéro six, quarante-deux…": a dictated number of six words or
    # more that starts as a telephone does, after "au", "on" or "at".
    Rule(
        TELEPHONE,
        _rx(
            r"\b(?:au|on|at|sur)\s+"
            rf"(?P<id>(?:z[ée]ro|zero|oh),?[ \t]+{_SPOKEN_WORD}"
            rf"(?:,?[ \t\-]+{_SPOKEN_WORD}){{4,16}})",
            _I,
        ),
        0.7,
        spoken_number,
    ),
    Rule(
        TELEPHONE,
        _rx(
            r"\b(?:t[ée]l(?:[ée]phone)?|phone|mobile|portable|cell|ph|mob|num[ée]ro|number)\s*[.:]?\s*"
            rf"(?:is\s+|est\s+(?:le\s+)?)?(?P<id>(?:z[ée]ro|zero|oh)[\s,\-]+{SPOKEN})",
            _I,
        ),
        0.8,
        spoken_number,
    ),
    Rule(
        NUMERO_DOSSIER,
        _rx(
            r"\b(?:IPP|NDA|MRN|dossier|s[ée]jour|hospital\s+number|record\s+number|chart|"
            r"account|patient\s+(?:id|number|num[ée]ro))\s*(?:number|n°|num[ée]ro|is|est)?\s*[:,]?\s*"
            r"(?P<id>(?-i:[A-Z])(?:\s+(?:as\s+in|for|comme)\s+[A-Za-z]+)?[\s,\-]+"
            rf"{_SPOKEN_WORD}(?:,?[\s\-]+{_SPOKEN_WORD}){{2,16}}|{SPOKEN})",
            _I,
        ),
        0.8,
        spoken_number,
    ),
    Rule(
        NUMERO_SECU,
        _rx(
            r"\b(?:NIR|NHS(?:\s+number)?|s[ée]cu(?:rit[ée]\s+sociale)?|social\s+security(?:\s+number)?|"
            rf"SSN|medicare(?:\s+number)?)\s*(?:number|n°|num[ée]ro|is|est)?\s*[:,]?\s*(?P<id>{SPOKEN})",
            _I,
        ),
        0.8,
        spoken_number,
    ),
    Rule(
        AGE,
        _rx(
            r"(?P<id>\b(?:nonante|ninety|one\s+hundred|a\s+hundred|cent)(?:[\s\-](?:(?:et|and)[\s\-])?"
            r"(?:one|two|three|four|five|six|seven|eight|nine|un|deux|trois|quatre|cinq|six|sept|"
            r"huit|neuf))?(?:\s*(?:ans|years?(?:\s+old)?))?)\b",
            _I,
        ),
        0.7,
        lambda value: (
            value.lower().startswith(("nonante", "ninety", "one hundred", "a hundred"))
            or " ans" in value.lower()
        ),
    ),
)


# HL7 v2 segments pasted from a hospital system: which field of which segment is what.
_HL7_FIELDS: dict[str, dict[int, str]] = {
    "PID": {
        2: NUMERO_DOSSIER,
        3: NUMERO_DOSSIER,
        4: NUMERO_DOSSIER,
        5: NOM,
        6: NOM,
        7: DATE_NAISSANCE,
        9: NOM,
        11: ADRESSE,
        13: TELEPHONE,
        14: TELEPHONE,
        18: NUMERO_DOSSIER,
        19: NUMERO_SECU,
    },
    "NK1": {2: NOM, 4: ADRESSE, 5: TELEPHONE, 6: TELEPHONE},
    # The attending, referring, consulting and admitting doctors; the visit number.
    "PV1": {7: NOM, 8: NOM, 9: NOM, 17: NOM, 19: NUMERO_DOSSIER, 50: NUMERO_DOSSIER},
}
_HL7_SEGMENT = re.compile(r"^(PID|NK1|PV1)\|[^\n]*", re.MULTILINE)


def hl7_fields(text: str) -> list[tuple[int, int, str]]:
    """The identifying fields of the HL7 v2 PID and NK1 segments in ``text``: names,
    addresses and telephones whole, identifiers by their first component ("000563821" of
    "000563821^^^MEMORIAL^MR"), the date of birth by its date."""
    found: list[tuple[int, int, str]] = []
    for segment in _HL7_SEGMENT.finditer(text):
        kinds = _HL7_FIELDS[segment.group(1)]
        field_start = segment.start()
        for index, field in enumerate(segment.group().split("|")):
            kind, start = kinds.get(index), field_start
            field_start += len(field) + 1
            if kind is None:
                continue
            for repetition in field.split("~"):
                value = repetition
                if kind in (NUMERO_DOSSIER, NUMERO_SECU, DATE_NAISSANCE):
                    value = repetition.split("^")[0][: 8 if kind == DATE_NAISSANCE else None]
                if value.strip("^ "):
                    found.append((start, start + len(value), kind))
                start += len(repetition) + 1
    return found


# The columns of a table (Markdown, pipe-, semicolon-, comma- or tab-separated) whose cells
# identify the patient, by their header ("patient_name" reads as "patient name").
_TABLE_COLUMNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(
            r"(?i)^(?:(?:patient|pt)\s+)?(?:ddn|dob|d\.o\.b\.?|date\s+(?:de\s+|d\s+)?naissance|"
            r"date\s+of\s+birth|n[ée]\(?e?\)?(?:\s+le)?|naissance|birth\s*date|yob|year\s+of\s+birth|"
            r"date\s+naiss?|dt\s+naiss?|dn)$"
        ),
        DATE_NAISSANCE,
    ),
    (
        re.compile(
            r"(?i)^(?:(?:patient|pt)\s+)?(?:[âa]ge|age\s*\((?:y|years|yrs|ans)\)|[âa]ge\s+ans)$"
        ),
        AGE,
    ),
    (
        re.compile(
            r"(?i)^(?:IPP|NDA|NIP|MRN|UHID|URN|CRN|hosp(?:ital)?\s+(?:no|number|id)|"
            r"(?:n°\s*|num[ée]ro\s+(?:de\s+)?)?(?:dossier|s[ée]jour)|record(?:\s+(?:no|number))?|"
            r"patient\s+id|chart|encounter\s*(?:id|no|number)?|visit\s*(?:id|no|number)|episode(?:\s+id)?)$"
        ),
        NUMERO_DOSSIER,
    ),
    (
        re.compile(
            r"(?i)^(?:patient(?:e)?|pt|nom|name|r[ée]sident(?:e)?|usager|b[ée]n[ée]ficiaire|surname|"
            r"forename|first\s+name|last\s+name|family\s+name|given\s+name|pr[ée]nom|"
            r"nom\s+de\s+famille|nom\s+(?:d\s+)?usage|nom\s+(?:de\s+)?naissance|nom\s+jeune\s+fille|"
            r"family|given|prenoms?)(?:\s+(?:name|nom|\(nom\)))?$"
        ),
        NOM,
    ),
    (
        re.compile(
            r"(?i)^(?:(?:patient|pt)\s+)?(?:adresse|address|street|rue|voie)(?:\s+(?:ligne|line)\s*\d)?$"
        ),
        ADRESSE,
    ),
)
# A column of references ("id", "N°", "ref", "cas") holds record numbers when the table also
# names or dates its patients.
_TABLE_REFERENCE = re.compile(
    r"(?i)^(?:id|n°|no|#|num|num[ée]ro|ref|r[ée]f|r[ée]f[ée]rence|cas|case|incident|ticket|"
    r"(?:n°\s*)?(?:ei|fei|cas|incident|signalement))(?:\s+(?:id|no|n°|number|num))?$"
)
_TABLE_RULE = re.compile(r"^[\s|:\-+]+$")
_TABLE_NAME = re.compile(rf"^[{UP}][^\d|;\t]{{1,60}}$")
_TABLE_DATE = re.compile(rf"^(?:{DATE})$", re.IGNORECASE)
_TABLE_RECORD = re.compile(r"^(?=[A-Z0-9\-/ ]*\d{3})[A-Z0-9][A-Z0-9\-/ ]{2,24}$")


def _split(line: str, delimiter: str) -> list[str]:
    """A delimited line's cells; in a CSV line (not a pipe table), a delimiter inside double
    quotes is the cell's own ('"Rawlings, Everton"')."""
    if delimiter == "|" or '"' not in line:
        return line.split(delimiter)
    parts, start, quoted = [], 0, False
    for i, char in enumerate(line):
        if char == '"':
            quoted = not quoted
        elif char == delimiter and not quoted:
            parts.append(line[start:i])
            start = i + 1
    parts.append(line[start:])
    return parts


def _cells(line: str, offset: int, delimiter: str) -> list[tuple[int, int]]:
    """The stripped spans of a delimited line's cells (outer pipes left out), quotes off."""
    spans, start = [], 0
    for part in _split(line, delimiter):
        stripped = part.strip().strip('"')
        lead = part.find(stripped) if stripped else 0
        spans.append((offset + start + lead, offset + start + lead + len(stripped)))
        start += len(part) + 1
    if delimiter == "|" and line.lstrip().startswith("|"):
        spans = spans[1:]
    if delimiter == "|" and line.rstrip().endswith("|"):
        spans = spans[:-1]
    return spans


def _header(text: str, cells: list[tuple[int, int]], delimiter: str) -> dict[int, str]:
    """Which cells of a header line name identifying columns; none unless the line reads as
    a header (short cells without digits: a sentence with commas is not one)."""
    names = [re.sub(r"[_\-.]+", " ", text[start:end]).strip() for start, end in cells]
    if delimiter != "|" and any(len(n) > 30 or re.search(r"\d", n[:-1]) for n in names):
        return {}
    columns: dict[int, str] = {}
    references = []
    for index, name in enumerate(names):
        for header, kind in _TABLE_COLUMNS:
            if header.match(name):
                columns[index] = kind
                break
        else:
            if _TABLE_REFERENCE.match(name):
                references.append(index)
    if NOM in columns.values() or DATE_NAISSANCE in columns.values():
        columns.update(dict.fromkeys(references, NUMERO_DOSSIER))
    return columns


def table_fields(text: str) -> list[tuple[int, int, str]]:
    """The cells of a table's name, date-of-birth and age columns (ages over 89 only),
    read from the header line above them."""
    found: list[tuple[int, int, str]] = []
    columns: dict[int, str] = {}
    delimiter, width, offset = "", 0, 0
    for line in text.split("\n"):
        start, offset = offset, offset + len(line) + 1
        cells = _cells(line, start, delimiter) if columns and delimiter in line else []
        if cells and len(cells) == width:
            if delimiter == "|" and _TABLE_RULE.match(line):
                continue
            for index, kind in columns.items():
                cell_start, cell_end = cells[index]
                value = text[cell_start:cell_end]
                if (
                    (kind == NOM and _TABLE_NAME.match(value))
                    or (kind == DATE_NAISSANCE and _TABLE_DATE.match(value))
                    or (kind == AGE and value.isdigit() and age_over_89(value))
                    or (kind == NUMERO_DOSSIER and _TABLE_RECORD.match(value))
                    or (kind == ADRESSE and re.search(r"[^\W\d_]{2}", value) is not None)
                ):
                    found.append((cell_start, cell_end, kind))
            continue
        columns = {}
        for delimiter in ("|", ";", "\t", ","):
            if line.count(delimiter) >= 2:
                cells = _cells(line, start, delimiter)
                columns = _header(text, cells, delimiter)
                if columns:
                    width = len(cells)
                    break
    return found
