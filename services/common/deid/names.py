"""Person names, as clinicians write them: with or without a title, "ROUSSEAU Thierry",
"Thierry Rousseau", "J. Moreau", all in lower case after "patient", or read by the language
model's named-entity recogniser; and the words that are clinical however they look.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from services.common.deid.lexicon import Lexicon, fold
from services.common.deid.patterns import (
    CAP_WORD,
    LOW,
    NAME_WORD,
    PARTICLE,
    TITLE,
    UP,
    UPPER_WORD,
)

# Words that a title, a label or the recogniser may put next to a name but that are not one.
_NOT_NAMES = frozenset(
    w.lower()
    for w in [
        "patient",
        "patiente",
        "pt",
        "pte",
        "pts",
        "malade",
        "enfant",
        "bebe",
        "bébé",
        "nourrisson",
        "mere",
        "mère",
        "pere",
        # Agencies whose acronyms stand beside a capitalised word ("Signalement ANSM").
        *("ansm", "mhra", "fda", "hpra", "bfarm", "afmps", "swissmedic", "cnil"),
        # Services whose acronyms stand beside a capitalised word ("Appel SAMU", "Score CDEIS").
        *("samu", "smur", "sau", "sas", "had", "ssr", "usc", "usic", "usi", "uhcd", "score"),
        # The labels of numbers ("Maria, SNS no. …").
        *("sns", "nir", "ipp", "nda", "mrn", "ssn", "ppsn", "niss", "avs"),
        # Words of a handover that stand where a name would ("(Homme, 85 ans)", "Avis: cardio").
        *("homme", "femme", "dépendant", "dépendante", "autonome", "grabataire", "avis"),
        *("scope", "covid", "sats", "temp", "dextro", "glycémie", "pouls", "plan", "note"),
        "père",
        "fils",
        "fille",
        "mari",
        "epouse",
        "épouse",
        "femme",
        "conjoint",
        "conjointe",
        "compagne",
        "compagnon",
        "frere",
        "frère",
        "soeur",
        "sœur",
        "oncle",
        "tante",
        "neveu",
        "niece",
        "nièce",
        "cousin",
        "cousine",
        "aidant",
        "aidante",
        "tuteur",
        "tutrice",
        "famille",
        "proche",
        "voisin",
        "voisine",
        "medecin",
        "médecin",
        "docteur",
        "dr",
        "pr",
        "prof",
        "professeur",
        "interne",
        "externe",
        "infirmier",
        "infirmiere",
        "infirmière",
        "ide",
        "cadre",
        "chef",
        "aide-soignant",
        "aide-soignante",
        "kine",
        "kiné",
        "sage-femme",
        "radiologue",
        "urgentiste",
        "anesthesiste",
        "anesthésiste",
        "cardiologue",
        "chirurgien",
        "chirurgienne",
        "pharmacien",
        "pharmacienne",
        "senior",
        "junior",
        "resident",
        "résident",
        "referent",
        "référent",
        "titulaire",
        "garde",
        "astreinte",
        "mr",
        "mrs",
        "ms",
        "miss",
        "mx",
        "sir",
        "madam",
        "madame",
        "monsieur",
        "mademoiselle",
        "mme",
        "mlle",
        "m",
        "wife",
        "husband",
        "daughter",
        "son",
        "mother",
        "father",
        "brother",
        "sister",
        "partner",
        "carer",
        "caregiver",
        "nephew",
        "niece",
        "aunt",
        "uncle",
        "grandson",
        "granddaughter",
        "friend",
        "neighbour",
        "neighbor",
        "relative",
        "family",
        "doctor",
        "nurse",
        "consultant",
        "registrar",
        "surgeon",
        "physician",
        "radiologist",
        "cardiologist",
        "intensivist",
        "midwife",
        "paramedic",
        "pharmacist",
        "student",
        "fellow",
        "attending",
        "gp",
        "sho",
        "fy1",
        "fy2",
        "ct1",
        "st3",
        "hca",
        "rn",
        "np",
        "pa",
        "his",
        "her",
        "their",
        "the",
        "a",
        "an",
        "and",
        "et",
        "ou",
        "or",
        "with",
        "avec",
        "de",
        "du",
        "des",
        "la",
        "le",
        "les",
        "un",
        "une",
        "au",
        "aux",
        "par",
        "pour",
        "sur",
        "sous",
        "dans",
        "chez",
        "vers",
        "to",
        "of",
        "in",
        "on",
        "at",
        "by",
        "for",
        "from",
        "was",
        "is",
        "has",
        "had",
        "il",
        "elle",
        "ils",
        "elles",
        "who",
        "qui",
        "que",
        "dont",
        "where",
        "when",
        "then",
        "puis",
        "alors",
        "also",
        "aussi",
        "but",
        "mais",
        "not",
        "pas",
        "no",
        "non",
        "yes",
        "oui",
        "signé",
        "signed",
        "signature",
        "rédigé",
        "written",
        "by",
        "par:",
        "reported",
        "reporter",
        "déclarant",
        "declarant",
        "unknown",
        "inconnu",
        "inconnue",
        "anonyme",
        "anonymous",
        "nom",
        "name",
        "prenom",
        "prénom",
        "surname",
        "firstname",
        "hopital",
        "hôpital",
        "hospital",
        "clinique",
        "clinic",
        "service",
        "ward",
        "unit",
        "unite",
        "unité",
        "centre",
        "center",
        "chu",
        "ch",
        "ehpad",
        "urgences",
        "ed",
        "icu",
        "rea",
        "réa",
        "réanimation",
        "bloc",
        "salle",
        "box",
        "lit",
        "bed",
        "chambre",
        "room",
        "jour",
        "day",
        "nuit",
        "night",
        "matin",
        "morning",
        "soir",
        "evening",
        "lundi",
        "mardi",
        "mercredi",
        "jeudi",
        "vendredi",
        "samedi",
        "dimanche",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "rads",
        "cath",
        "obs",
        "meds",
        "labs",
        "bloods",
        "echo",
        "resus",
        "triage",
        "re",
        "fwd",
        "fw",
        "dear",
        "hi",
        "hello",
        "bonjour",
        "cher",
        "chere",
        "chère",
        "he",
        "she",
        "it",
        "they",
        "we",
        "you",
        "je",
        "tu",
        "nous",
        "vous",
        "on",
        "nobody",
        "personne",
        "someone",
        "quelqu'un",
        "contact",
        "prise",
        "objet",
        "subject",
        "sujet",
        "compte",
        "rendu",
        "ecg",
        "relations",
    ]
)


def _not_name(word: str) -> bool:
    """A word next to names that is not one ("patiente", "wife", "Dr"); accents count:
    "Péré" is a surname, "père" a father."""
    lowered = word.lower()
    return lowered in _NOT_NAMES or re.sub(r"['’]s?$", "", lowered) in _NOT_NAMES


# Words that open the name of a place of care and never a person's ("Institut Hédi Rais");
# the institution lexicon also holds words that do ("St Clair", "Royal", "Chi").
_PLACE_KINDS = frozenset(
    {"hopital", "hospital", "institut", "institute", "clinique", "clinic", "polyclinique"}
    | {"centre", "center", "universite", "university", "fondation", "foundation", "infirmary"}
    | {"ehpad", "chu", "chru", "ysbyty"}
)


def _acronym(word: str) -> bool:
    """Capitals that spell an acronym, not a surname: a digit in them ("NEWS2"), or short
    parts joined by hyphens ("PET-CT", "ECG-AF")."""
    parts = word.split("-")
    return any(c.isdigit() for c in word) or (len(parts) > 1 and all(len(p) <= 3 for p in parts))


# The name of a product written in camel case ("DiabAssist", "NephroCalc", "ArrhythmIA"):
# a capital inside the word after three small letters or more, unless they are the particle
# of a surname ("MacAulay", "FitzGerald", "VanDyke", "NicDhonncha").
_CAMEL = re.compile(r"(?P<head>[A-Z][a-z]+)[A-Z][A-Za-z]*")
_CAMEL_NAME_HEADS = frozenset(
    {"mac", "fitz", "van", "von", "del", "della", "dela", "des", "dos", "das", "ter", "ten", "nic"}
    | {"abu", "ben", "bin", "vander", "vanden", "san", "santa", "saint", "ould", "mhic", "mc"}
    | {"de", "di", "du", "da", "la", "le", "lo", "st", "al", "el", "ap", "ab", "o", "ni", "ua"}
)
# Words that finish a product's name ("MedCheck Pro", "RxCheck AI").
_PRODUCT_TAIL = frozenset({"pro", "plus", "max", "lite", "mini", "one", "go", "ai", "ia", "x"})


def _product(word: str) -> bool:
    """A word written as products are named, not as people are."""
    match = _CAMEL.fullmatch(word)
    return match is not None and match.group("head").lower() not in _CAMEL_NAME_HEADS


def _stop_words() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS as EN
    from spacy.lang.fr.stop_words import STOP_WORDS as FR

    return frozenset(EN | FR)


# Function words of French and English (spaCy's lists): "madame est arrivée" names nobody.
_STOP_WORDS = _stop_words()

# Given names that are also ordinary or clinical words: alone, they are not taken for a name.
_AMBIGUOUS_FIRST_NAMES = frozenset(
    [
        "iris",
        "rose",
        "grace",
        "mark",
        "may",
        "june",
        "april",
        "will",
        "florence",
        "victoria",
        "georgia",
        "nancy",
        "paris",
        "austin",
        "jordan",
        "charlotte",
        "adelaide",
        "sydney",
        "lourdes",
        "aurore",
        "patience",
        "constance",
        "prudence",
        "faith",
        "hope",
        "joy",
        "dawn",
        "summer",
        "autumn",
        "ruby",
        "amber",
        "olive",
        "jade",
        "crystal",
        "penny",
        "bill",
        "pat",
        "sue",
        "guy",
        "max",
        "rosa",
        "clement",
        "clemence",
        "colin",
        "lucie",
        "france",
        "ange",
        "angele",
        "marin",
        "gaston",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "alfred",
    ]
)

# Small letters, with the Latin letters beyond Latin-1 ("karakuş", "demirtaş").
_LL = r"a-zà-ÿ\u0100-\u024f\u1e00-\u1eff"
_TITLED = re.compile(
    # "Dr.Quayle": a title's dot may stand for the space.
    rf"(?<![\w.\-]){TITLE}(?:\s+|(?<=\.)(?=[{UP}][{LOW}]))"
    rf"(?P<id>(?:[{UP}]\.\s?(?:-?[{UP}]\.\s?)?)?(?:{PARTICLE}\s+){{0,2}}{NAME_WORD}"
    # A name does not run on to the next line ("M. Serge Kouakou\nPompe Omnipod 5").
    rf"(?:[ \t]+(?:{PARTICLE}[ \t]+){{0,2}}{NAME_WORD}){{0,3}})(?![\w])"
)
_TITLED_LOWER = re.compile(
    r"(?<![\w.])(?:Mme|Mlle|Mr\.?|Mrs\.?|Ms\.?|Dr\.?|Docteur|Monsieur|Madame|Mademoiselle|Pr\.|"
    r"mme|mr\.?|mrs\.?|ms\.?|dr\.?|docteur|madame|monsieur|mademoiselle|professeur|mister|"
    r"missus|(?<!\d\s)m\.)\s+"
    # Read ahead, not consumed: the next title in the words is read too ("docteur mathilde gimbert
    # concernant madame suzanne moustier").
    rf"(?=(?P<id>[{_LL}][{_LL}'’\-]+(?:\s+[{_LL}][{_LL}'’\-]+){{0,3}}))"
)
# Particles that open a lower-case surname ("monsieur le goff yann") and the words of a
# dictation that end one ("… hughes comma ninety").
_LOWER_PARTICLES = frozenset(
    {"le", "la", "de", "du", "des", "van", "von", "der", "al", "el", "ben", "bin", "ó", "ní", "mac"}
    | {"mc", "ap", "da", "di", "do", "dos", "ter", "ten", "af", "o", "nic", "ni"}
)
# Words that end a name written in lower case ("… rowbotham date of birth", "… moustier née le").
_LOWER_NAME_ENDS = frozenset(
    {"number", "no", "num", "numéro", "dob", "ddn", "aged", "date", "née", "né", "nee", "ne"}
    | {"born", "âgée", "âgé", "agée", "agé", "hospital", "hôpital", "ipp", "nhs", "mrn"}
)
_DICTATION_WORDS = frozenset(
    {"virgule", "point", "comma", "period", "stop", "full", "slash", "tiret", "colon", "newline"}
)
# "ok will ask bethan", "voir avec gwenola": a lower-case given name after a verb of asking.
# "retrouvée par aminata", "caught by siobhán", "c'est fatou", "hi its shanice", "Salut
# agnieszka", "ta, ciarán", "PT lena": after a word that introduces a person, or the role
# before a colleague; "vu avec rosalie et kwame": a second name joined to the first.
_ASKED = re.compile(
    # A lookahead, so that a cue inside the words another cue took is still read ("bonjour
    # c'est fatou", "hi its shanice").
    r"(?=(?:\b(?i:ask|asked|tell|told|ping|pinged|text|texted|email|emailed|cc'?d|thanks|thx|ta|"
    r"merci|demande\s+[àa]|dis\s+[àa]|voir\s+avec|vu\s+avec|avec|with|par|by|c['’]est|"
    r"it['’]?s|salut|hi|hello|hey|coucou|bonjour|s['’]appelle|named|name\s+is|name['’]s)|"
    r"(?<![\w'’\-])(?:PT|OT|SLT|SALT|HCA))"
    rf"[ \t]*,?[ \t]+(?P<id>[{_LL}][{_LL}'’\-]{{2,20}})(?![\w'’\-])"
    rf"(?:[ \t]+(?:et|and|&)[ \t]+(?P<more>[{_LL}][{_LL}'’\-]{{2,20}})(?![\w'’\-]))?)"
)
_NEXT_LABEL = (
    r"(?i:pr[ée]nom|nom|name|first\s+name|given\s+name|surname|ddn|dob|n[ée]e?|sexe?|sex|[âa]ge)"
    r"\s*[:=]"
)
_LABELLED = re.compile(
    r"(?:\b|(?<=_))(?i:nom(?:\s+(?:de\s+naissance|d'usage|marital|de\s+jeune\s+fille))?|pr[ée]nom|"
    r"name|surname|case\s+\d{1,3}|last\s+name|first\s+name|given\s+name|full\s+name|patient(?:e)?(?:\s+name)?|"
    r"pt(?:\s+name)?|from|de|to|cc|exp[ée]diteur|destinataire|identit[ée]|[ée]pouse|n[ée]e|next\s+of\s+kin|NOK|contact|personne\s+[àa]\s+"
    r"pr[ée]venir|personne\s+de\s+confiance|signed|sign[ée]|reported\s+by|d[ée]clarant|"
    r"requested\s+by|raised\s+by|logged\s+by|submitted\s+by|assignee|assigned\s+to|caller|"
    r"resident|r[ée]sidente?|client|service\s+user|"
    r"demandeur|demand[ée]\s+par|signal[ée]\s+par|auteur|author|"
    r"r[ée]dig[ée]\s+par|saisi\s+par|referring|referred\s+by|adress[ée]\s+par|seen\s+by|"
    r"vu\s+par|attending|consultant|m[ée]decin\s+traitant|GP|dr\s+traitant|member|"
    r"adh[ée]rent|b[ée]n[ée]ficiaire|assur[ée]e?|mother|father|partner|husband|wife|baby|b[ée]b[ée]|"
    r"investigat(?:or|eur|rice)|m[èe]re|p[èe]re|reporter|notifier|notificateur|pharmacist|"
    r"pharmacien(?:ne)?|nurse|infirmi[eè]re?|t[ée]moins?|witness(?:es)?|kin[ée]|interne|"
    r"m[ée]decin|sage-femme|midwife|physio(?:therapist)?|ergo(?:th[ée]rapeute)?|parents?|"
    r"sonographer|radiographer|manipulateur|manipulatrice)"
    r"(?:\s*\([^()\n]{1,30}\))?"
    # A JSON or YAML key keeps its quotes: '"nom": "LE DREFF"'.
    r"[\"']?\s*(?:[:=]|(?<=\s)-|-(?=\s))\s*[\"«“']?\s*"
    # The next label on the line is not part of the name ("Nom : DESCAMPS Prénom : Andrée").
    rf"(?P<id>{NAME_WORD}(?:(?:,\s|[ ,]|\s(?:et|and|&)\s)(?!{_NEXT_LABEL})(?:{PARTICLE} )?"
    rf"{NAME_WORD}){{0,3}}|"
    rf"[{_LL}][{_LL}'’\-]+(?: [{_LL}][{_LL}'’\-]+){{1,2}})"
)
# "Pt Bích Ngọc Trương, DOB …", "patiente Fatou Sarr née le …": the patient named before
# their date of birth or age.
_PATIENT_BEFORE_BIRTH = re.compile(
    r"\b(?i:pt|patient|patiente|child|enfant|baby|b[ée]b[ée]|resident|r[ée]sidente?|"
    r"(?:bed|lit|room|rm|chambre|box|bay)\s+\d{1,3}[A-Za-z]?\s*[:\-–—]?)"
    rf"\s+(?P<id>{NAME_WORD}(?:\s+(?:{PARTICLE}\s+)?{NAME_WORD}){{0,3}})"
    r"(?![\w'’\-])(?=\s*[—–]\s*\d{1,2}[./]\d{1,2}[./]\d{2,4}|\s*,?\s*(?i:DOB\b|DDN\b|n[ée]e?\b|born\b|aged\b|[âa]g[ée]e?\b|date\s+of\s+birth|"
    r"date\s+de\s+naissance|\d{1,3}\s*(?:ans|yo|y/o|years?|yrs?)\b|\d{1,3}\s*[MFHmf]\b|"
    r"\(\s*\d{1,3}\s*(?:yrs?|years?|ans|mois|months?)\b))"
)
# "pt OKONKWO, Emeka": the patient in a register's order.
_PATIENT_REGISTER = re.compile(
    rf"\b(?i:pt|patient|patiente|resident|r[ée]sidente?)\s+(?P<id>{UPPER_WORD}(?:[\s-]{UPPER_WORD})?"
    rf",\s+{CAP_WORD})(?![\w])"
)
# "told jo the nurse", "demandé à Léa l'infirmière": a name before the person's job.
_NAME_THEN_JOB = re.compile(
    r"(?:\b(?i:told|asked|called|informed|paged|phoned|rang|with|to|by|from|à|par|avec|"
    rf"prévenu|appelé|informé|demandé\sà|dit\sà)\s+|(?<![\w'’\-])(?=[{UP}]))"
    r"(?P<id>[^\W\d_][\w'’\-]{1,20})\s+(?i:the|la|le|l['’])\s*"
    r"(?i:nurse|doctor|physio|pharmacist|midwife|hca|carer|registrar|infirmi[eè]re|"
    r"aide-soignante?|interne|kin[ée]|pharmacienne?|sage-femme|cadre)\b"
)
# "hi its shaz from the care home", "c'est Nadia de l'EHPAD": a caller introducing themself.
_SELF_INTRODUCED = re.compile(
    r"\b(?i:it'?s|its|this\s+is|c['’]est|ici)\s+"
    r"(?P<id>[^\W\d_][\w'’\-]{1,20})\s+(?i:from|de|du|des|here|ici|at)\b"
)
# "@jpark:", "@m.okafor": a colleague's handle in a chat.
_HANDLE = re.compile(r"(?<![\w.@])@(?P<id>[^\W\d_][\w.\-]{1,30}[^\W_])(?![\w@])")
# "initiales J.-P. M.": a patient named by initials only.
_INITIALS_LABELLED = re.compile(
    rf"\b(?i:initiales?|initials)\s*[:\-]?\s*(?P<id>(?:[{UP}]\.?\s?-?\s?){{1,4}}[{UP}]\.?)"
)
# "… doctor ogunleye", "vu par docteur mensah.": a lower-case title ending a clause.
_TITLE_WORD_END = re.compile(
    rf"\b(?:doctor|docteur|dr|nurse|sister|sr)\s+(?P<id>[{_LL}][{_LL}'’\-]{{2,20}})"
    r"(?=\s*(?:[.,;:!?\n]|$))"
)
# Names found by a cue of their own: their words are names elsewhere in the text too.
_CUED = frozenset(
    {"title", "title-lower", "label", "relation", "patient", "married", "comma", "gazetteer"}
    | {"initials", "name-age", "upper-first", "first-upper"}
)
_CUED_BY_WORDS = frozenset({"title", "title-lower", "label", "relation", "patient", "married"})
# "Dupuis, 78 ans, admis", "Okafor, 93yo,": a sentence opening on a name and an age.
_NAME_THEN_AGE = re.compile(
    rf"(?:^|(?<=[.!?\n])\s*|(?<=[–—]\s))(?P<id>{NAME_WORD}(?:[ \t]+{NAME_WORD}){{0,2}})\s*,\s*"
    r"(?:(?:aged|âg[ée]e?\s+de)\s+)?\d{1,3}\s*"
    r"(?:(?:ans|a|yo|y/o|y\.o\.|years?(?:\s+old)?|yrs?)\b|(?=[,;)]))",
    re.MULTILINE,
)
# "lit 4 (Chevrier-Lambrot)", "(Kanagaratnam, 90 ans)": a patient named in brackets after
# the bed, or before the age.
_BED_THEN_NAME = re.compile(
    r"(?i:lit|bed|ch(?:ambre)?|chbre|room|rm|box|bay)\.?[ \t]*\d{1,3}[A-Za-z]?[ \t]*\([ \t]*"
    # Two words or a compound one: "lit 5 (Covid)", "box 2 (Scope)" are not names.
    rf"(?P<id>{NAME_WORD}(?:[ \t]+{NAME_WORD}){{1,2}}|[{UP}][{LOW}]+[\-'’][{UP}][\w'’\-]+)"
    r"[ \t]*[,)]"
)
_BRACKETED_NAME_AGE = re.compile(
    rf"\([ \t]*(?P<id>{NAME_WORD}(?:[ \t]+{NAME_WORD}){{0,2}})[ \t]*,[ \t]*\d{{2,3}}[ \t]*"
    r"(?:ans|a|yo|y/o|years?|yrs?)\b"
)
# "SOW ép. DIOP Aminata", "MARTIN née DURAND": a married and a birth name.
_MARRIED = re.compile(
    rf"(?<![\w'’\-])(?P<id>{NAME_WORD}\s+(?:ép\.|épouse|epouse|veuve|vve|née|nee|n[ée]e)\s+{NAME_WORD}"
    rf"(?:\s+{NAME_WORD})?)"
)
# "KOWALCZYK JAN", "LEBLANC-MOREAU GISELE": both in capitals, one a given name.
_UPPER_UPPER = re.compile(rf"(?<![\w])(?=(?P<id>{UPPER_WORD}[ \t]+{UPPER_WORD})(?![\w]))")
_UPPER_FIRST = re.compile(
    rf"(?<![\w])(?P<id>(?:{PARTICLE}[ \t]+)?{UPPER_WORD}"
    rf"(?:[ \t]+(?:{PARTICLE}[ \t]+)?{UPPER_WORD}){{0,2}}"
    rf"[ \t]+{CAP_WORD}(?:[ \t-]{CAP_WORD})?)(?![\w])"
)
_FIRST_UPPER = re.compile(
    rf"(?<![\w'’\-])(?P<id>{CAP_WORD}(?:[ \t]{CAP_WORD})?[ \t]+(?:{PARTICLE}[ \t]+)?{UPPER_WORD}"
    rf"(?:[ \t-]{UPPER_WORD})?)(?![\w])"
)
# "Smith, John A.", "HENDERSON, MARGARET", "O'BRIEN, Siobhan": a register's order.
_SURNAME_COMMA_FIRST = re.compile(
    rf"(?<![\w'’\-])(?P<id>(?P<surname>{NAME_WORD}(?:[ \t]{NAME_WORD})?),[ \t]"
    rf"(?P<first>{NAME_WORD})"
    rf"(?:[ \t][{UP}]\.?(?![\w]))?)"
)
# "J. Leroy", "J.-M. Durand", "Th. Gasparini" (the abbreviated given names of French; not
# "Ph.", which "Ph. Eur." also opens).
_INITIAL_WORD = rf"(?:[{UP}]|Th|Ch|Chr)"
_INITIALS = re.compile(
    rf"(?<![\w./])(?P<id>{_INITIAL_WORD}\.(?:[ \t]?-?[{UP}]\.)?[ \t]?(?:{PARTICLE}[ \t]+)?"
    rf"{NAME_WORD})(?![\w])"
)
_KIN = (
    r"(?i:fille|fils|mari|[ée]poux|[ée]pouse|femme|conjointe?|compagne|compagnon|m[èe]re|p[èe]re|"
    r"fr[èe]re|s(?:œ|oe)ur|ni[èe]ce|neveu|petite?-fille|petit-fils|tante|oncle|aidante?|voisine?|"
    r"tut(?:eur|rice)|wife|husband|daughter|son|partner|mother|father|brother|sister|niece|"
    r"nephew|carer|caregiver|grandson|granddaughter|friend|neighbou?r|aunt|uncle|mum|mom|dad|"
    r"nan|nana|nanna|gran|granny|grandma|grandpa|grandmother|grandfather|mamie|papi|papy)"
)
_RELATION = re.compile(
    r"\b(?:(?i:sa|son|ses|his|her|their|my|mon|ma|the\s+patient'?s?|pt'?s|la|le|sa\s+propre)\s+)?"
    + _KIN
    + r"(?:\s+(?i:of|de)(?=\s))?"
    + rf"\s*,?\s*(?:\(|,)?\s*(?P<id>{NAME_WORD}(?:\s+(?:{PARTICLE}\s+)?{NAME_WORD}){{0,2}}|"
    rf"[{_LL}][{_LL}'’\-]*(?:\s+[{_LL}][{_LL}'’\-]*)?)"
)
# "Rosalind (daughter) rang", "Josiane (fille)": the relative named before the relation.


def _names_before(more: str) -> str:
    """A run of name words, the first and ``more`` others ("0,2"), captured as ``id``."""
    return rf"(?<![\w'’\-])(?P<id>{NAME_WORD}(?:\s+(?:{PARTICLE}\s+)?{NAME_WORD}){{{more}}})"


_KIN_IN_BRACKETS = r"\s*\(\s*" + _KIN + r"\s*\)"
_NAME_THEN_KIN = re.compile(_names_before("0,2") + _KIN_IN_BRACKETS)
# "Dear Priyanka,", "Bonjour Gwenaëlle,": the person a message opens on.
_GREETED = re.compile(
    r"(?:^|(?<=\n))\s*(?i:dear|hi|hello|hey|morning|bonjour|bonsoir|salut|coucou|cher|ch[èe]re)\s+"
    rf"(?P<id>{NAME_WORD}(?:\s+{NAME_WORD})?)(?=\s*[,!:\n])"
)
# "Ayodele Okonjo, RN", "Siân (night nurse)": a name then a colleague's role, or a job in
# brackets.
_ROLE_AFTER = (
    r"\s*[,(–—\-]\s*(?:RN|IDE|IBODE|IADE|MD|CNS|HCA|NP|PA-C|SHO|SpR|FY[12]|MBBS|FRCP|FRCS|MRCP|"
    r"PharmD|RPh|RGN|RMN|RM|ANP|ACP|CRNA|LPN|DO)\b"
)
_JOB_AFTER = (
    r"\s*\(\s*(?i:(?:night|day|staff|charge|ward|agency|bank)\s+)?(?i:nurse|doctor|hca|physio|"
    r"pharmacist|midwife|carer|porter|registrar|consultant|interne|infirmi[eè]re?|aide-soignante?|"
    r"cadre|kin[ée]|brancardier|sage-femme|pharmacienne?)\b"
)
_NAME_THEN_ROLE = re.compile(_names_before("1,2") + _ROLE_AFTER)
_NAME_THEN_JOB_IN_BRACKETS = re.compile(_names_before("0,2") + _JOB_AFTER)
# "Drs Quayle and Ng", "M. et Mme Kerhervé": the second name of a pair after a plural title.
_TITLED_PAIR = re.compile(
    rf"(?<![\w.])(?:Drs\.?|MM\.|Mmes|Profs?\.?|Prs\.?)\s+{NAME_WORD}(?:\s+{NAME_WORD})?"
    rf"\s+(?:et|and|&)\s+(?P<id>(?:{PARTICLE}\s+)?{NAME_WORD}(?:[ \t]+{NAME_WORD})?)"
)
# "Quayle's daughter": a name, its possessive, then a relative.
_POSSESSIVE_KIN = re.compile(
    rf"(?<![\w'’\-])(?P<id>{NAME_WORD}(?:\s+{NAME_WORD})?)['’]s\s+" + _KIN + r"\b"
)
# 'Alasdair "Ally" Drummond': a name with a nickname in quotes inside it.
_NICKNAMED = re.compile(
    rf"(?<![\w'’\-])(?P<id>{NAME_WORD}\s+[\"“«']\s?{NAME_WORD}\s?[\"”»']\s+{NAME_WORD})(?![\w])"
)
# "DeVonte Harrington (MRN 55018823)", "Re: Bríd Uí Bhriain (DOB 12.12.1938)": two name
# words or more right before an identifier given in brackets.
_ID_IN_BRACKETS = (
    r"\s*\(\s*(?:(?i:MRN|IPP|NHS|CHI|DOB|DDN|n[ée]e?|born|NIR|SSN|PPSN|hosp(?:ital)?|UR|NISS|AVS|"
    r"RAMQ|PHN|NRIC|TRN|NHI|UHID|Medicare)\b|b\.\s*(?=\d)|[STFG]\d{7}[A-Z]\))"
)
_NAME_BEFORE_ID = re.compile(_names_before("1,3") + _ID_IN_BRACKETS)
# "Zainab Hussein, DOB 01/02/1930", "Bronwen Ellis NHS 999 503 3771": the same without the
# bracket, when the label is followed by its number and one word is a given name.
_ID_AFTER_COMMA = (
    r"\s*[,;–—]?\s*(?:(?i:MRN|IPP|NHS|CHI|DOB|DDN|NIR|SSN|PPSN|NISS|AVS|RAMQ|PHN|NRIC|NHI|UHID|"
    r"Medicare)\b|(?-i:UR|TRN|NIN)\b)"
    r"\s*(?:[:#=]|n°|no\.?|number)?\s*(?=\d)"
)
_NAME_BEFORE_LABELLED_ID = re.compile(_names_before("1,3") + _ID_AFTER_COMMA)
# "[09:13] Kristine: doc the BP app…": the speaker of a chat line, after its time.
_CHAT_SPEAKER = re.compile(
    rf"(?:^|(?<=\n))\s*\[\d{{1,2}}[:h]\d{{2}}(?::\d{{2}})?\]\s*(?P<id>{NAME_WORD}(?:\s+{NAME_WORD}){{0,2}}|"
    r"[a-zà-ÿ]+[._][a-zà-ÿ]+)"
    r"\s*:"
)
# "lit 6 Rouxelin a chuté", "bed 5 Okpara –", "rm 512 Hollister 94", "4. Sauvageot F92": a
# surname alone after the bed or a list's number, before what follows a patient in a handover
# (a dash, a possessive, "a"/"is" and a verb, the sex and age).
_BED_THEN_SURNAME = re.compile(
    r"(?i:lit|bed|ch(?:ambre)?|chbre|room|rm|box|bay)\.?[ \t]*\d{1,3}[A-Za-z]?[ \t]*[:\-–—]?[ \t]*"
    rf"(?P<id>{NAME_WORD})"
    r"(?=[ \t]+[–—][ \t]|['’]s\b|[ \t]+(?:a|est|is|was|has|had)[ \t]+[a-zé]|[ \t,]+[MFH]?[ \t]?"
    r"(?:9\d|1[01]\d)\b(?![.,]\d|\s*%))"
)
_LISTED_SURNAME = re.compile(
    rf"(?:^|(?<=\n))[ \t]*(?:\d{{1,2}}[.)]|[-•*–])[ \t]*(?P<id>{NAME_WORD})"
    r"(?=[ \t,:]+[MFH]?[ \t]?(?:9\d|1[01]\d)\b(?![.,]\d|\s*%))"
)
# "1) Ackerley TKR day 2", "- Ziółkowska : PTG J12", "| 23 | Kerboul AVC J3 |", "lit 7 :
# Puyjalon, chute": a surname alone opening a list's item or a table's row, before a clinical
# acronym, a colon or a comma.
_LISTED_SURNAME_NOTE = re.compile(
    r"(?:(?:^|(?<=\n))[ \t]*(?:\d{1,2}[.)]|[-•*–]|\|[ \t]*\d{1,3}[ \t]*\|)|"
    r"(?i:\b(?:lit|bed|ch(?:ambre)?|chbre|room|rm|box|bay))\.?[ \t]*\d{1,3}[A-Za-z]?[ \t]*:)[ \t]*"
    rf"(?P<id>{NAME_WORD})"
    r"(?=[ \t]*:?[ \t]+(?-i:[A-Z]{2,5})(?:\b|#|\+))"
)
_BED_COLON_SURNAME = re.compile(
    r"(?i:\b(?:lit|bed|ch(?:ambre)?|chbre|room|rm|box|bay))\.?[ \t]*\d{1,3}[A-Za-z]?[ \t]*:[ \t]*"
    rf"(?P<id>{NAME_WORD})(?=[ \t]*,[ \t])"
)
# The headings of a clinical note, which open a list's items as a surname does.
_HEADINGS = frozenset(
    {"conclusion", "conclusions", "traitement", "traitements", "contexte", "temperature"}
    | {"biologie", "background", "observations", "observation", "plan", "antecedents"}
    | {"histoire", "examen", "evolution", "diagnostic", "diagnosis", "synthese", "bilan"}
    | {"imagerie", "scanner", "radio", "allergies", "sortie", "entree", "motif", "suivi"}
    | {"consignes", "remarques", "remarque", "commentaires", "commentaire", "resultat"}
    | {"resultats", "results", "result", "impression", "assessment", "history", "findings"}
    | {"bloods", "imaging", "medications", "medication", "ttt", "actions", "action", "issues"}
    | {"recommandations", "recommendations", "decision", "decisions", "discussion", "avis"}
    | {"patient", "patiente", "statut", "status", "etat", "situation", "objet", "subject"}
)
# "Demandeur : ldoanthanh", "declarant=f.carrilho", "Assignee: a.ansah-twum", "acknowledged by
# mnxumalo": a person's login after the word that says who asked, declared or acted.
_LOGIN_AFTER = re.compile(
    r"\b(?i:demandeu(?:r|se)|d[ée]clarant[e]?|reporter|reported\s+by|requested\s+by|assignee|"
    r"assigned\s+to|assign[ée]e?\s+[àa]|acknowledged\s+by|acquitt[ée]e?\s+par|saisie?\s+par|"
    r"valid[ée]e?\s+par|opened\s+by|closed\s+by|created\s+by|cr[ée]{2}e?\s+par)"
    r"[ \t]*[:=]?[ \t]*(?P<id>[a-z][a-z0-9]*(?:[._\-][a-z0-9]+){0,3})(?![\w@.\-'’])"
)
# "Aide : Moïra (IBODE)", "Ortho : Mélissande Raulic", "Présentateur : Dr Eoin Mac an tSaoi": a
# person after the role a form or the minutes give them.
_ROLE_COLON_NAME = re.compile(
    r"(?<![\w'’\-])(?i:aide|ortho(?:ptiste)?|pr[ée]sentat(?:eur|rice)|op[ée]rat(?:eur|rice)|"
    r"chirurgien(?:ne)?|anesth[ée]siste|instrumentiste|circulante?|interne|externe|"
    r"manip(?:ulat(?:eur|rice))?|kin[ée]|pharmacien(?:ne)?|IBODE|IADE|surgeon|an(?:a)?esthetist|"
    r"registrar|scrub\s+nurse|presenter|secr[ée]taire|rapporteur|r[ée]f[ée]rente?)"
    r"[ \t]*:[ \t]*(?:(?:Dr|Pr|Mme|Mr|Mrs|Ms|M)\.?[ \t]+)?"
    rf"(?P<id>{NAME_WORD}(?:[ \t]+(?:{NAME_WORD}|"
    r"(?:mac|an|de|du|le|la|van|von|nic|ni|ó)(?=[ \t]))){0,3})"
)
# Words after those labels that are a role, a team or a system, not a person's login.
_NOT_LOGINS = frozenset(
    {"admin", "root", "system", "systeme", "auto", "automatique", "unknown", "inconnu", "anonyme"}
    | {"none", "null", "test", "service", "support", "helpdesk", "hotline", "biomed", "team"}
    | {"pharmacien", "pharmacienne", "pharmacist", "nurse", "doctor", "medecin", "interne"}
    | {"cadre", "ide", "equipe", "staff", "secretariat", "astreinte", "garde", "patient"}
)
# "Margaux, peux-tu compléter la fiche ?": a line opening on a given name and a comma.
_VOCATIVE = re.compile(rf"(?:^|(?<=\n))[ \t]*(?P<id>{NAME_WORD}),[ \t]")
# "Ellie: what's the name": a chat line opening on a given name and a colon.
_CHAT_SPEAKER_PLAIN = re.compile(rf"(?:^|(?<=\n))[ \t]*(?P<id>{NAME_WORD}):[ \t]")
# "steph 19:02 : …", "julien d. 19:03 :", "[09:14] priya r: …": a chat line's speaker in
# lower case, with an initial, before or after the time.
_CHAT_SPEAKER_LOWER = re.compile(
    r"(?:^|(?<=\n))[ \t]*(?:\[\d{1,2}[:h]\d{2}(?::\d{2})?\][ \t]*"
    r"(?P<id>[a-zà-ÿ][\w'’\-]{1,20}(?:[ \t]+[a-zà-ÿ](?:-[a-zà-ÿ])?\.?)?)[ \t]*:|"
    r"(?P<after>[a-zà-ÿ][\w'’\-]{1,20}(?:[ \t]+[a-zà-ÿ](?:-[a-zà-ÿ])?\.?)?)[ \t]+"
    r"\[?\d{1,2}[:h]\d{2}\]?(?:[ \t]*:|[ \t]+(?=\S))|"
    # "anh: qqn a vu l'alerte ?", "oumar: oui c'est moi": a lower-case speaker, no time.
    r"(?P<plain>[a-zà-ÿ][\w'’\-]{1,20}):[ \t])"
)
# "ghislain (IDE) prévient…", "thi hoa (IDE)": a colleague in lower case before their role.
_LOWER_NAME_THEN_ROLE = re.compile(
    r"(?<![\w'’\-])(?P<id>[a-zà-ÿ][\w'’\-]{2,20}(?:[ \t]+[a-zà-ÿ][\w'’\-]{1,20})?)\s*\(\s*"
    r"(?:(?-i:IDE|AS|ASH|IBODE|IADE|SF|FY[12]|SpR)|(?i:interne|(?:night\s+|day\s+)?reg|kin[ée]|"
    r"cadre|sage-femme|infirmi[eè]re?|aide-soignante?))\s*\)"
)
# "signé m-l. veyssière", "Kind regards, Fionnghuala Nic a' Phearsain, FY2": the signer's
# name after the word that signs, to the end of its line or a comma.
_SIGNED = re.compile(
    r"(?:\b(?i:signé|signed)[ \t]*[,:]?|"
    # "Kind regards," signs; "in regards to" does not: a comma, a colon or a line break.
    r"\b(?i:kind\s+regards|best\s+regards|regards|cordialement|bien\s+[àa]\s+vous|"
    r"yours\s+(?:sincerely|faithfully|truly)|sincerely|best\s+wishes|with\s+thanks|"
    r"(?:bien\s+)?confraternellement|salutations\s+distingu[ée]es|respectueusement)[ \t]*[,:\n])"
    r"(?:[ \t]*\n){0,2}[ \t]*"
    r"(?P<id>(?:[^\W\d_]{1,3}\.(?:-?[^\W\d_]\.)?[ \t]?|[^\W\d_]-[^\W\d_]\.[ \t]?)?"
    r"[^\W\d_][\w'’\-]+(?:[ \t]+(?:[^\W\d_][\w'’\-]*|[^\W\d_]\.)){0,3})"
    r"(?=[ \t]*(?:[,.;]|\n|$))"
)
# "Note de l'ARC (Killian)", "the study nurse (Ama)": a colleague named after their role.
_ROLE_THEN_NAME = re.compile(
    r"\b(?:ARC|TEC|CRA|CRC|IDE|IADE|(?i:interne|externe|monitor|coordinat(?:or|eur|rice)|"
    r"study\s+nurse|research\s+nurse|cadre|infirmi[eè]re?|nurse|pharmacienne?|pharmacist|"
    r"secr[ée]taire|secretary|brancardier|porter|manipulat(?:eur|rice)|radiographer))"
    rf"\s*\(\s*(?P<id>{NAME_WORD}(?:\s+{NAME_WORD})?)\s*\)"
)
# "… — Kelyan Dijoux-Lauret, né le 02/11/2026": two name words right before a birth.
_NAME_THEN_BIRTH = re.compile(
    _names_before("1,2") + r"\s*,\s*(?i:n[ée](?:e|\(e\))?\s+(?:le|en)|born(?:\s+on)?)\s+(?=\d)"
)
# "CXR of Nkechi Onyekachi (DOB 12/12/1961)": the name before a bracketed date of birth.
_NAME_THEN_BRACKETED_BIRTH = re.compile(
    _names_before("1,2") + r"[ \t]*\(\s*(?i:DOB|DDN|d\.o\.b\.?|n[ée]e?\s|born|°|b\.)"
)
# These read a run of name words at every capital: each is tried only where what must follow
# the name is in the text at all.
_AFTER_NAME_HINTS = (
    (_NAME_THEN_KIN, re.compile(_KIN_IN_BRACKETS)),
    (_NAME_THEN_ROLE, re.compile(_ROLE_AFTER)),
    (_NAME_THEN_JOB_IN_BRACKETS, re.compile(_JOB_AFTER)),
    (_NAME_BEFORE_ID, re.compile(_ID_IN_BRACKETS)),
    (_NAME_THEN_BIRTH, re.compile(r",\s*(?i:n[ée]|born)")),
    (_NAME_THEN_BRACKETED_BIRTH, re.compile(r"\(\s*(?i:DOB|DDN|d\.o\.b|n[ée]e?\s|born|°|b\.)")),
    (_TITLED_PAIR, re.compile(r"(?:Drs\.?|MM\.|Mmes|Profs?\.?|Prs\.?)\s")),
    (_POSSESSIVE_KIN, re.compile(r"['’]s\s+" + _KIN + r"\b")),
    (_NICKNAMED, re.compile(r"\s[\"“«']\s?[^\W\d_]+\s?[\"”»']\s")),
)
# A message whose last line, or last sentence, is a given name alone ("…\nYanis").
_LAST_WORD = re.compile(rf"(?:(?<=\n)|(?<=[.!?])\s+)(?P<id>[{UP}][\w'’\-]{{1,19}})\s*[.!]?\s*$")
_WORD = re.compile(r"[\w'’\-]+")
# A surname behind a particle joined to it ("al-Hassan", "el-Amin", "d'Almeida").
_PARTICLE_NAME = re.compile(rf"(?:al|el|ul|ad|as|ben|bin|abu|d|l)[-'’]{NAME_WORD}")
# A relative's number or address right after their name.
_CONTACT_AFTER = re.compile(
    r"\s*(?:,\s*)?(?:(?i:au|at|on|tel|tél|t[ée]l[ée]phone|ph|mob|:)\s*)?[+(]?\d"
)
# A message signed with a first name: after a dash, after thanks, or with the signer's role.
_ROLE = r"(?:RN|IDE|IBODE|IADE|MD|CNS|HCA|NP|PA|SF|AS|DR|Dr|FY1|FY2|SHO|SpR|interne|pharma)"
_SIGNATURE = re.compile(
    r"(?:(?<!\S)[\-–—]\s*|(?i:merci|thanks|thank\s+you|thx|cheers|cordialement|regards|bises|bonne\s+"
    r"journ[ée]e|a\+|à\s+\+)\s*[,!.]?\s*\n?\s*|(?<=[.!?\n])\s*(?=[\w'’\-]+\s+" + _ROLE + r"\b))"
    r"(?P<id>[^\W\d_][\w'’\-]{1,19})(?:\s+" + _ROLE + r"\b\.?)?\s*[.!]?\s*$"
)
# Words that end messages without signing them.
_SIGN_OFF_WORDS = frozenset(
    [
        *("ok", "okay", "merci", "thanks", "thx", "cheers", "urgent", "fin", "end", "stop"),
        *("rien", "none", "nil", "voilà", "voila", "svp", "pls", "please", "asap", "bye"),
        *("ciao", "ras", "nad", "nkda", "nka", "tbc", "tbd", "etc"),
    ]
)
# "grade C. Pancreatic", "vitamine D. Le": a letter and a dot that are not an initial.
_NOT_INITIALS = re.compile(
    r"(?i)(?:\d\s*|°\s*|\b(?:grade|stade|type|stage|class|classe|groupe?|vitamine?|h[ée]patite|hepatitis|"
    r"annexe?|appendix|figure|table|tableau|option|niveau|level|zone|phase|lot|batch|item)\s*)$"
)
# The last word of a clinical phrase ("Morse Fall Scale", "Cushing Syndrome").
_CLINICAL_HEAD = frozenset(
    [
        "scale",
        "score",
        "syndrome",
        "disease",
        "sign",
        "test",
        "palsy",
        "lymphoma",
        "sarcoma",
        "fracture",
        "tear",
        "catheter",
        "criteria",
        "classification",
        "procedure",
        "operation",
        "reflex",
        "triad",
        "tetralogy",
        "position",
        "tube",
        "valve",
        "chorea",
        "ataxia",
        "dystrophy",
        "anaemia",
        "anemia",
        "thyroiditis",
        "phenomenon",
        "law",
        "formula",
        "method",
        "technique",
        "tumour",
        "tumor",
        "cyst",
        "index",
        "rule",
        "equation",
        "coma",
        "stage",
        "grade",
        "type",
        "ulcer",
        "node",
        "cells",
        "cell",
        "curve",
        "plot",
        "effect",
        "unit",
        "units",
        "maneuver",
        "manoeuvre",
        "drain",
        "fistula",
        "disorder",
        "deficiency",
        "protocol",
        "pathway",
        "model",
        "algorithm",
        "system",
        "device",
        "software",
        "platform",
        "echelle",
        "échelle",
        "maladie",
        "signe",
        "stade",
        "classification",
    ]
)

# What makes a capitalised word clinical: the phrase around it.
_CLINICAL_BEFORE = re.compile(
    r"(?i)(?:maladie|syndrome|signe|score|[ée]chelle|test|man(?:œ|oe)uvre|sonde|classification|"
    r"crit[èe]res?|stade|triade|tétralogie|tetralogie|fracture|paralysie|lymphome|sarcome|"
    r"tumeur|kyste|ligne|point|r[ée]flexe|cath[ée]ter|loi|formule|m[ée]thode|technique|"
    r"intervention|op[ée]ration|proc[ée]dure|position|bo[îi]te|tube|canal|valve|anse|"
    r"chorée|choree|ataxie|dystrophie|myopathie|an[ée]mie|thyro[ïi]dite|disease|syndrome|sign|"
    r"score|scale|test|courbes?|curves?|syst[èe]me|system|corps|"
    # "of" after an anatomical or clinical word only ("loop of Henle"), not "CXR of Nkechi".
    r"(?:tetralogy|circle|islets?|loop|pouch|bundle|ligament|canal|duct|space|angle|triangle|"
    r"node|organ|sphincter|foramen|tetrad|sign|law|ampulla|crypts?|column|nucleus)\s+of)\s+"
    r"(?:de\s+|d['’]\s*|du\s+|des\s+)?$"
)
_CLINICAL_AFTER = re.compile(
    r"(?i)^(?:['’]s)?\s*(?:disease|syndrome|sign|score|scale|test|palsy|lymphoma|sarcoma|"
    r"fracture|man(?:oe)?uv(?:re|er)|catheter|criteria|classification|procedure|operation|"
    r"reflex|triad|tetralogy|position|tube|valve|chorea|ataxia|dystrophy|an(?:a)?emia|"
    r"thyroiditis|phenomenon|law|formula|method|technique|tumou?r|cyst|line|point|coma|"
    r"blatchford|stage|grade|type|equation|index|rule|criterion|respiration|ulcer|node|"
    r"c(?:oe|e)lls?|curve|plot|effect|units?|device|algorithm|software|system|model|platform|"
    r"murmur|level|waves?|sign|nodes?|bodies|body|body\b|"
    r"AI\b)"
)


@dataclass(frozen=True)
class Found:
    """A span of the text, what it is and how sure the recogniser is."""

    start: int
    end: int
    entity: str
    score: float
    source: str


class NameFinder:
    """Every way a person's name is found; the clinical words are left alone."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon

    # --- candidates -------------------------------------------------------------------------

    def find(self, text: str, person_spans: Iterable[tuple[int, int]]) -> list[Found]:
        """Names in ``text``; ``person_spans`` are the recogniser's PER entities."""
        found: list[Found] = []
        for match in _TITLED.finditer(text):
            found.extend(self._trimmed(text, *match.span("id"), 0.85, "title", strict=False))
        for match in _TITLED_LOWER.finditer(text):
            start = match.start("id")
            words = self._lower_name_words(match.group("id").split())
            end = start + len(" ".join(words))
            if (
                words
                and text[start:end] == " ".join(words)
                and not self._clinical_phrase(text, start, end)
            ):
                found.extend(self._trimmed(text, start, end, 0.6, "title-lower", strict=False))
        for match in _ASKED.finditer(text):
            for group in ("id", "more"):
                word = match.group(group)
                if not word or not self._given(word, broad=True) or self._plain_word(word):
                    break
                found.append(Found(*match.span(group), "NOM", 0.6, "asked"))
        for match in _LABELLED.finditer(text):
            value = match.group("id")
            first = value.split()[0]
            if value.islower() and not self._given(first, broad=True):
                continue
            if value.isupper() and len(value) <= 3:
                continue  # an acronym ("ECG")
            found.extend(self._trimmed(text, *match.span("id"), 0.8, "label", strict=False))
        for match in _RELATION.finditer(text):
            first = match.group("id").split()[0]
            if first.islower() and not self._given(first, broad=True):
                start = match.start("id")
                words = match.group("id").split()
                # "fils vang pa 07 82…": both words of a name reached at a number.
                end = start + len(match.group("id"))
                if (
                    len(words) == 2
                    and len(first) >= 3
                    and all(w.isalpha() and len(w) >= 2 and not self._plain_word(w) for w in words)
                    and _CONTACT_AFTER.match(text, end) is not None
                ):
                    found.append(Found(start, end, "NOM", 0.7, "relation-reached"))
                    continue
                if self._reached_at(text, start, first):
                    found.append(Found(start, start + len(first), "NOM", 0.7, "relation-reached"))
                continue
            found.extend(self._trimmed(text, *match.span("id"), 0.75, "relation", strict=False))
        for pattern, source in (
            (_PATIENT_REGISTER, "patient"),
            (_BED_THEN_NAME, "patient"),
            (_BRACKETED_NAME_AGE, "patient"),
            (_NAME_THEN_JOB, "job"),
            (_SELF_INTRODUCED, "introduced"),
            (_TITLE_WORD_END, "title-lower"),
        ):
            for match in pattern.finditer(text):
                words = _WORD.findall(match.group("id"))
                if words and not any(self._plain_word(w) for w in words):
                    found.append(Found(*match.span("id"), "NOM", 0.7, source))
        for match in _CHAT_SPEAKER_PLAIN.finditer(text):
            word = match.group("id")
            if self._given(word, broad=True) and not self._plain_word(word):
                found.append(Found(*match.span("id"), "NOM", 0.6, "chat-speaker"))
        for match in (*_BED_THEN_SURNAME.finditer(text), *_LISTED_SURNAME.finditer(text)):
            word = match.group("id")
            if (
                not word.isupper()
                and len(word) > 2
                and not self._plain_word(word)
                and not self.lexicon.is_eponym(word)
            ):
                found.extend(self._trimmed(text, *match.span("id"), 0.6, "patient", strict=True))
        for match in (*_LISTED_SURNAME_NOTE.finditer(text), *_BED_COLON_SURNAME.finditer(text)):
            word = match.group("id")
            if (
                not word.isupper()
                and len(word) > 3
                and fold(word) not in _HEADINGS
                and not self._plain_word(word)
                and not self.lexicon.is_eponym(word)
            ):
                found.extend(self._trimmed(text, *match.span("id"), 0.6, "patient", strict=True))
        for match in _ROLE_COLON_NAME.finditer(text):
            words = _WORD.findall(match.group("id"))
            capitalised = [w for w in words if w[0].isupper()]
            if any(self._plain_word(w) or w.isupper() for w in capitalised):
                continue
            if len(capitalised) >= 2 or self._given(words[0], broad=True):
                found.extend(self._trimmed(text, *match.span("id"), 0.7, "job", strict=False))
        for match in _LOGIN_AFTER.finditer(text):
            login = match.group("id")
            plain = re.fullmatch(r"[a-z]+", login) is not None
            if len(login) < 4 or fold(login) in _NOT_LOGINS:
                continue
            if plain and self._plain_word(login):
                continue
            found.append(Found(*match.span("id"), "NOM", 0.7, "login"))
        for match in _VOCATIVE.finditer(text):
            word = match.group("id")
            if (
                self._given(word)
                and fold(word) not in _AMBIGUOUS_FIRST_NAMES
                and not self._plain_word(word)
            ):
                found.append(Found(*match.span("id"), "NOM", 0.6, "greeted"))
        for pattern, source in ((_CHAT_SPEAKER, "label"), (_ROLE_THEN_NAME, "label")):
            for match in pattern.finditer(text):
                found.extend(self._trimmed(text, *match.span("id"), 0.7, source, strict=False))
        for pattern, source in (
            (_CHAT_SPEAKER_LOWER, "chat-speaker"),
            (_LOWER_NAME_THEN_ROLE, "job"),
            (_SIGNED, "signed"),
        ):
            for match in pattern.finditer(text):
                groups = match.groupdict()
                group = next((g for g in ("after", "plain") if groups.get(g)), "id")
                words = _WORD.findall(match.group(group))
                if not words or any(self._plain_word(w) for w in words if len(w) > 2):
                    continue
                # In lower case, a speaker or a colleague is a given name, or a word and an
                # initial ("julien d."): not any word before a time or a role.
                if (
                    source != "signed"
                    and not self._given(words[0], broad=True)
                    and not (len(words) >= 2 and len(words[-1].strip("-")) == 1)
                ):
                    continue
                found.append(Found(*match.span(group), "NOM", 0.7, source))
        for match in _HANDLE.finditer(text):
            if not self._plain_word(match.group("id")):
                found.append(Found(*match.span("id"), "NOM", 0.7, "handle"))
        for match in _INITIALS_LABELLED.finditer(text):
            found.append(Found(*match.span("id"), "NOM", 0.7, "initials"))
        for match in _PATIENT_BEFORE_BIRTH.finditer(text):
            words = match.group("id").split()
            # Capitals are left to the rules that read them ("PATIENT REQUIRED REVISION").
            if not any(self._plain_word(w) or w.isupper() for w in words):
                found.extend(self._trimmed(text, *match.span("id"), 0.75, "patient", strict=False))
        for match in _MARRIED.finditer(text):
            found.extend(self._trimmed(text, *match.span("id"), 0.8, "married", strict=False))
        for match in _UPPER_UPPER.finditer(text):
            words = match.group("id").split()
            if any(self._given(w, broad=True) for w in words) and not any(
                self.lexicon.is_clinical_word(w) or _not_name(w) or w.lower() in _STOP_WORDS
                for w in words
            ):
                found.extend(
                    self._trimmed(text, *match.span("id"), 0.7, "upper-upper", strict=True)
                )
        for match in _SURNAME_COMMA_FIRST.finditer(text):
            surname = match.group("surname")
            if re.fullmatch(r"[IVX]{1,4}", surname.split()[-1]):
                continue  # a grade ("Mallampati III, ASA 3"), not a surname
            if self._given(match.group("first"), broad=True) and not self.lexicon.is_clinical_word(
                surname
            ):
                found.extend(self._trimmed(text, *match.span("id"), 0.75, "comma", strict=True))
        for pattern, source in ((_UPPER_FIRST, "upper-first"), (_FIRST_UPPER, "first-upper")):
            for match in pattern.finditer(text):
                start, end = match.span("id")
                if self._plausible_pair(match.group("id")):
                    found.extend(self._trimmed(text, start, end, 0.75, source, strict=True))
        for match in _INITIALS.finditer(text):
            if _NOT_INITIALS.search(text[max(0, match.start() - 20) : match.start()]):
                continue
            found.extend(self._trimmed(text, *match.span("id"), 0.7, "initials", strict=True))
        for pattern, hint in _AFTER_NAME_HINTS:
            if hint.search(text) is None:
                continue
            source = "patient" if pattern is _NAME_BEFORE_ID else "label"
            for match in pattern.finditer(text):
                found.extend(self._trimmed(text, *match.span("id"), 0.7, source, strict=True))
        for match in _NAME_BEFORE_LABELLED_ID.finditer(text):
            if any(self._given(w, broad=True) for w in _WORD.findall(match.group("id"))):
                found.extend(self._trimmed(text, *match.span("id"), 0.7, "patient", strict=True))
        for match in _GREETED.finditer(text):
            found.extend(self._trimmed(text, *match.span("id"), 0.7, "label", strict=True))
        found.extend(self._gazetteer(text))
        found.extend(self._signature(text))
        for match in _NAME_THEN_AGE.finditer(text):
            if not any(self._plain_word(w) for w in match.group("id").split()):
                found.extend(self._trimmed(text, *match.span("id"), 0.7, "name-age", strict=True))
        for start, span_end in person_spans:
            # A table's cell ends the name ("| Aidoc BriefCase | HSD |").
            end = start + len(text[start:span_end].split("|")[0].rstrip())
            for candidate in self._trimmed(text, start, end, 0.6, "ner", strict=True):
                if self._lone_word_doubtful(text, candidate) or self._shouted(text, candidate):
                    continue
                found.append(candidate)
        found.extend(self._repeated(text, found))
        return found

    def _repeated(self, text: str, found: list[Found]) -> Iterator[Found]:
        """A name found once is a name wherever else the text writes it ("Mrs Okafor's scan
        … Okafor was sent home"), in its own case or in capitals."""
        covered = [(f.start, f.end) for f in found]
        # In a text written in capitals, capitals say nothing: "DOCTOR VISITS" is no name.
        shouting = sum(c.isupper() for c in text) > sum(c.islower() for c in text)
        words: set[str] = set()
        for name in found:
            if name.source not in _CUED:
                continue  # capitals and the recogniser's guesses are not spread further
            for word in _WORD.findall(text[name.start : name.end]):
                word = re.sub(r"['’]s?$", "", word)
                if word.isupper() and (shouting or name.source not in _CUED_BY_WORDS):
                    continue  # capitals read as a name by their shape alone
                if len(word) >= 3 and word[0].isupper() and not self._plain_word(word):
                    words.update((word, word.upper()))
        for word in sorted(words):
            for match in re.finditer(rf"(?<![\w'’\-]){re.escape(word)}(?![\w\-])", text):
                start, end = match.span()
                if any(a <= start < b for a, b in covered) or self._clinical(
                    text, start, end, strict=True
                ):
                    continue
                yield Found(start, end, "NOM", 0.6, "repeat")

    @staticmethod
    def _lower_name_words(words: list[str]) -> list[str]:
        """The words of a lower-case name after a title: a particle only before another word,
        up to the first word of the language, of a dictation or of the clinic."""
        kept: list[str] = []
        for index, word in enumerate(words):
            lowered = word.lower()
            if lowered in _LOWER_PARTICLES and index + 1 < len(words):
                kept.append(word)
                continue
            if (
                _not_name(word)
                or lowered in _STOP_WORDS
                or lowered in _DICTATION_WORDS
                or fold(word) in _PLACE_KINDS
                or lowered in _LOWER_NAME_ENDS
            ):
                break
            kept.append(word)
        while kept and kept[-1].lower() in _LOWER_PARTICLES:
            kept.pop()
        return kept

    def _plain_word(self, word: str) -> bool:
        """A word of the language or of the clinic rather than a name."""
        return (
            word.lower() in _STOP_WORDS
            or _not_name(word)
            or _product(word)
            or self.lexicon.is_clinical_word(word)
            or self.lexicon.names_a_device(word)
            or word.lower() in _SIGN_OFF_WORDS
        )

    def _reached_at(self, text: str, start: int, word: str) -> bool:
        """A relative named in lower case and reached at a number right after ("la fille
        aïssatou au 06 39…", "daughter aroha 0491 570 156"): a name outside the lists."""
        if len(word) < 3 or not word.isalpha() or self._plain_word(word):
            return False
        return _CONTACT_AFTER.match(text, start + len(word)) is not None

    def _signature(self, text: str) -> Iterator[Found]:
        """The writer's first name signing a message ("… will datix - ffion", "Merci, Clém",
        "stacey RN"): one word, not a word of the language, at the very end."""
        match = _SIGNATURE.search(text)
        if match is None:
            last = _LAST_WORD.search(text)
            word = last.group("id") if last else ""
            if last and self._given(word, broad=True) and not self._plain_word(word):
                yield Found(*last.span("id"), "NOM", 0.6, "signature")
            return
        word = match.group("id")
        if self._plain_word(word) or word.isupper():
            return  # capitals end reports ("(B)(4) - DYSPAREUNIA."), not signatures
        yield Found(*match.span("id"), "NOM", 0.6, "signature")

    def _given(self, word: str, *, broad: bool = False) -> bool:
        """A given name, or a compound of given names ("marie-claude"); ``broad`` also takes
        the census names, which are only evidence next to another name word or after a cue."""
        parts = [p for p in fold(word).split("-") if p]
        if broad and word.lower() in _STOP_WORDS:
            return False
        names = self.lexicon.first_names
        more = self.lexicon.more_first_names if broad else frozenset()
        return bool(parts) and all(p in names or p in more for p in parts)

    def _lone_word_doubtful(self, text: str, candidate: Found) -> bool:
        """One word the recogniser calls a person but nothing else supports: an acronym
        ("NOF"), or a capitalised word opening a sentence ("Begin", "Forehead")."""
        word = text[candidate.start : candidate.end]
        if " " in word or fold(word) in self.lexicon.first_names:
            return False
        if word.isupper() and len(word) <= 4:
            return True
        before = text[: candidate.start].rstrip(" \t>*-•\"'(")
        return not before or before[-1] in ".!?:\n"

    def _shouted(self, text: str, candidate: Found) -> bool:
        """Capitals the recogniser calls a person, on a line written in capitals, with no
        given name among them ("RAPID LVO NEGATIVE"): the recogniser reads case, and a line in
        capitals has none. Names there are found by title, label and given name."""
        words = _WORD.findall(text[candidate.start : candidate.end])
        if not all(w.isupper() for w in words) or any(self._given(w, broad=True) for w in words):
            return False
        line_start = text.rfind("\n", 0, candidate.start) + 1
        line_end = text.find("\n", candidate.end)
        line = text[line_start : line_end if line_end >= 0 else len(text)]
        return not any(c.islower() for c in line)

    def _plausible_pair(self, pair: str) -> bool:
        """An upper-case word next to a capitalised one is a name if one of them is a given
        name, or the upper-case word is long and neither is a clinical word."""
        words = [w for w in _WORD.findall(pair) if len(w) > 1 and not _not_name(w)]
        if not any(w.isupper() for w in words):
            return False  # the upper-case word was an acronym ("Royal Melbourne ED")
        if any(self._given(w, broad=True) for w in words):
            return True
        upper = [w for w in words if w.isupper()]
        other = [w for w in words if not w.isupper()]
        return (
            bool(upper)
            and (bool(other) or len(upper) >= 2)  # "Pas de RCIU": no name word beside it
            and all(len(w) >= 4 and not _acronym(w) for w in upper)
            and not any(self.lexicon.is_clinical_word(w) for w in words)
            and not any(_not_name(w) or w.lower() in _STOP_WORDS for w in other)
        )

    def _gazetteer(self, text: str) -> Iterator[Found]:
        """A known given name, and the name words that follow it."""
        words = list(_WORD.finditer(text))
        index = 0
        while index < len(words):
            word = words[index]
            token = word.group()
            folded = fold(token)
            curated = self._given(token)
            if not (curated or self._given(token, broad=True)) or _not_name(token):
                index += 1
                continue
            lower = token.islower()
            end_index = index
            # Following name words: capitalised ones, or lower-case ones after a lower-case
            # given name ("jean dupont").
            while end_index + 1 < len(words):
                nxt = words[end_index + 1]
                gap = text[words[end_index].end() : nxt.start()]
                if gap not in (" ", "-"):
                    break
                candidate = nxt.group()
                if re.fullmatch(PARTICLE, candidate, re.IGNORECASE) and end_index + 2 < len(words):
                    after = words[end_index + 2].group()
                    if after[0].isupper() and text[nxt.end() : words[end_index + 2].start()] == " ":
                        end_index += 2  # "Yann Le Gall", "Marie de La Fontaine"
                        continue
                if _not_name(candidate) or (
                    lower
                    and (
                        candidate.lower() in _LOWER_NAME_ENDS
                        or candidate.lower() in _STOP_WORDS
                        # A third lower-case word only after two given names ("jean pierre
                        # dupont"), not "maureen o'dowd calling".
                        or (end_index > index and not self._given(words[end_index].group()))
                    )
                ):
                    break
                if len(candidate) < 2 and text[nxt.end() : nxt.end() + 1] != ".":
                    break  # "de Winter T waves": a lone capital is not a surname
                if (
                    candidate[0].isupper()
                    or _PARTICLE_NAME.fullmatch(candidate)
                    or (lower and re.sub(r"['’\-]", "", candidate).isalpha() and len(candidate) > 2)
                ):
                    end_index += 1
                    if end_index - index >= 3:
                        break
                    continue
                break
            start, end = word.start(), words[end_index].end()
            if end_index == index:
                # A given name alone: only capitalised, of the curated list, and not one that is
                # also a word.
                if (
                    lower
                    or not curated
                    or folded in _AMBIGUOUS_FIRST_NAMES
                    or (token.isupper() and len(token) < 4)
                ):
                    index += 1
                    continue
            elif lower and not self._lower_name_context(text, start, end):
                index = end_index + 1
                continue
            yield from self._trimmed(
                text, start, end, 0.7, "gazetteer", strict=True, lower_ok=lower
            )
            index = end_index + 1

    @staticmethod
    def _lower_name_context(text: str, start: int, end: int) -> bool:
        before = text[max(0, start - 30) : start].lower()
        after = text[end : end + 30].lower()
        return bool(
            re.search(
                r"(?:patient|patiente|pt|mme|mr|mrs|ms|m\.|dr|pr|nom|name|chez|fils|fille|wife|"
                r"resident|r[ée]sidente?|child|enfant|baby|b[ée]b[ée]|client|usager|"
                r"husband|daughter|son|mother|father|mère|père|épouse|mari|by|par|called|"
                r"nommée?|appelée?|named|this\s+is|it'?s|i\s+am|i'?m|je\s+suis|c'est|"
                r"vu\s+avec|seen\s+with|spoke\s+to|appel[ée]?)\s*[:,]?\s*$",
                before,
            )
            # … or followed by what follows a patient: a record number, a birth, an age.
            or re.match(
                r"\s*[(,]?\s*(?:ipp|nda|mrn|nhs|dob|ddn|n[ée]e?\s|born|\d{1,3}\s*(?:ans|yo|y/o|years?)\b)",
                after,
            )
        )

    # --- refinement -------------------------------------------------------------------------

    def _trimmed(
        self,
        text: str,
        start: int,
        end: int,
        score: float,
        source: str,
        *,
        strict: bool,
        lower_ok: bool = False,
    ) -> Iterator[Found]:
        """The name-like runs of words in ``text[start:end]``, each checked against the
        clinical lexicon. ``strict`` (recogniser, gazetteer, patterns without a title) also
        refuses runs the context makes clinical, a medicine or a device."""
        runs: list[list[re.Match[str]]] = [[]]
        words = list(_WORD.finditer(text, start, end))
        for index, word in enumerate(words):
            token = word.group()
            folded = fold(token)
            name_like = (
                token[0].isupper()
                or folded in self.lexicon.first_names
                or not strict
                or lower_ok
                or _PARTICLE_NAME.fullmatch(token) is not None  # "al-Hassan", "d'Almeida"
            ) and not _not_name(token)
            if (
                re.fullmatch(rf"-?{_INITIAL_WORD}", token)
                and text[word.end() : word.end() + 1] == "."
            ):
                name_like = True  # an initial ("A. Leroy", "J.-M. Durand", "Th. Gasparini")
            # A particle inside a name, or opening one before a capitalised word ("Le Goff",
            # "van der Berg").
            particle = re.fullmatch(PARTICLE, token, re.IGNORECASE) is not None and (
                bool(runs[-1]) or self._particle_opens(words, index)
            )
            if (name_like and not any(c.isdigit() for c in token)) or particle:
                runs[-1].append(word)
            elif runs[-1]:
                runs.append([])
        for run in runs:
            while run and re.fullmatch(PARTICLE, run[-1].group(), re.IGNORECASE):
                run.pop()
            if strict:
                # "Relais Lovenox": a medicine or an eponym at either end is not the name.
                while run and self.lexicon.is_clinical_word(run[-1].group()):
                    run.pop()
                while run and self.lexicon.is_clinical_word(run[0].group()):
                    run.pop(0)
            else:
                # "Mme Lhuissier Guillain-Barré J5": the eponym after the name is the disease.
                while len(run) > 1 and self.lexicon.is_clinical_word(run[-1].group()):
                    run.pop()
            # "M. Tcherniak SDRA": a short acronym after a surname, no given name before it.
            last = run[-1].group() if run else ""
            if (
                len(run) > 1
                and last.isupper()
                and len(last) <= 5
                and not run[-2].group().isupper()
                and not any(self._given(w.group(), broad=True) for w in run)
                and not self.lexicon.names_a_device(text[run[0].start() : run[-1].end()])
            ):
                run.pop()
            if not run:
                continue
            run_start, run_end = run[0].start(), run[-1].end()
            # "Crohn's": the possessive is not part of the name.
            phrase = text[run_start:run_end]
            if re.search(r"['’]s$", phrase):
                run_end -= 2
                phrase = phrase[:-2]
            elif re.search(r"['’]$", phrase):
                run_end -= 1
                phrase = phrase[:-1]
            if len(phrase) < 2 or self._clinical(text, run_start, run_end, strict=strict):
                continue
            yield Found(run_start, run_end, "NOM", score, source)

    @staticmethod
    def _particle_opens(words: list[re.Match[str]], index: int) -> bool:
        """Particles ("Le", "van der") followed by a capitalised surname."""
        for following in words[index + 1 : index + 3]:
            token = following.group()
            if re.fullmatch(PARTICLE, token, re.IGNORECASE):
                continue
            return token[0].isupper() and not _not_name(token)
        return False

    def _clinical(self, text: str, start: int, end: int, *, strict: bool) -> bool:
        phrase = text[start:end]
        words = _WORD.findall(phrase)
        lexicon = self.lexicon
        if all(lexicon.is_clinical_word(w) for w in words):
            return True
        if any(_product(w) for w in words) and all(
            _product(w) or (w.isupper() and len(w) <= 3) or w.lower() in _PRODUCT_TAIL
            for w in words
        ):
            return True  # "BronchioScore AI": a product's name
        if len(words) > 1 and fold(words[-1]) in _CLINICAL_HEAD:
            return True
        if self._institution(text, start, end, before=strict):
            return True
        if all(fold(w) in lexicon.drugs or lexicon.is_eponym(w) for w in words) and (
            self._clinical_phrase(text, start, end)
        ):
            return True
        if not strict:
            return False
        if self._clinical_phrase(text, start, end) and not any(
            fold(w) in lexicon.first_names for w in words
        ):
            return True
        return lexicon.names_a_device(phrase)

    @staticmethod
    def _clinical_phrase(text: str, start: int, end: int) -> bool:
        before = text[max(0, start - 40) : start]
        after = text[end : end + 40]
        return bool(_CLINICAL_BEFORE.search(before) or _CLINICAL_AFTER.search(after))

    def _institution(self, text: str, start: int, end: int, *, before: bool = True) -> bool:
        """A name inside the name of a place of care ("Hôpital Georges-Pompidou", "Johns
        Hopkins Hospital", "Florence Nightingale ward", "St Mary's")."""
        lexicon = self.lexicon
        first = _WORD.search(text, start, end)
        if first and first.end() < end and fold(first.group()) in _PLACE_KINDS:
            return True  # the span itself opens on the place's kind ("Institut Hédi Rais")
        inside = [fold(w.group()) for w in _WORD.finditer(text, start, end)]
        if any(w in lexicon.institution_names for w in inside) or any(
            w in _PLACE_KINDS for w in inside[1:]
        ):
            return True  # "Ninewells", "Royal Infirmary": a place of care named alone
        # Walk back over the capitalised words joined to the name by spaces or hyphens only.
        cursor = start
        adjacent = re.search(r"([\w'’\-]+)[ \t]+$", text[max(0, start - 30) : start])
        if adjacent and fold(adjacent.group(1)) in _PLACE_KINDS:
            return True  # "CHU Henri-Mondor" read from a label's value
        lookback = 60 if before else 0
        for word in reversed(list(_WORD.finditer(text, max(0, start - lookback), start))):
            gap = text[word.end() : cursor]
            # A spaced dash separates ("Hôpital Principal de Dakar – Mamadou Mbengue").
            if gap.strip(" -–") or "\n" in gap or re.search(r"\s[–—]\s", gap):
                break
            folded = re.sub(r"^[ld]['’]", "", fold(word.group()))
            if folded in lexicon.institutions_before:
                return True
            if not (
                word.group()[0].isupper()
                or folded in {"de", "du", "des", "la", "le", "d", "of", "the"}
            ):
                break
            cursor = word.start()
        cursor = end
        for word in _WORD.finditer(text, end, min(len(text), end + 60)):
            gap = text[cursor : word.start()]
            left = gap.replace("'s", "").replace("’s", "").strip(" -'’")
            if left == "." and re.search(r"\bSte?$", text[:cursor]):
                left = ""  # "Mercy St. Vincent Medical Center"
            if left or "\n" in gap:
                break
            if re.fullmatch(r"['’]s?", word.group()):
                cursor = word.end()
                continue
            folded = fold(word.group())
            if folded in lexicon.institutions_after:
                # "… mcgillivray hospital number four …": the number of a person at a hospital.
                return not re.match(r"\s+(?i:number|no\b|n°|num)", text[word.end() :])
            if not word.group()[0].isupper():
                break
            cursor = word.end()
        return False
