"""Narrative normalisation: French and English narratives to one stream of English tokens and cues.

The model is trained on English reports (FDA MAUDE) and must read French ones. French text is
accent-folded and its severity and device vocabulary mapped to the English words MAUDE uses, so
that the English-trained weights fire on French cues. Negation scope is marked (``neg_`` prefix on
the words that follow "no", "not", "without", ... up to punctuation), so that "sans conséquence
pour le patient" and "no patient harm or injury" read as the absence of harm, not as harm.
Lexicon cues (``cue_death``, ``cue_neg_harm``, ...) pool synonyms into one feature each; a death
stated as a fact ("expired", "passed away", "cause of death": ``cue_death``) is kept apart from
the word death merely mentioned ("death", "dying", "dead": ``cue_death_mention``), which
litigation and recall templates use about patients who are alive.
"""

from __future__ import annotations

import re

# --- accent folding -----------------------------------------------------------------------

_FOLD = str.maketrans(
    {
        **dict.fromkeys("àâäáã", "a"),
        **dict.fromkeys("éèêëē", "e"),
        **dict.fromkeys("îïíì", "i"),
        **dict.fromkeys("ôöóòõ", "o"),
        **dict.fromkeys("ùûüú", "u"),
        "ç": "c",
        "ÿ": "y",
        "ñ": "n",
        "œ": "oe",
        "æ": "ae",
        "’": " ",
        "'": " ",
        "‘": " ",
        "`": " ",
        "-": " ",
        "/": " ",
        "_": " ",
        "\n": ". ",
        "«": '"',
        "»": '"',
    }
)

_REDACTION = re.compile(r"\(\s*b\s*\)\s*\(\s*\d\s*\)")

# --- French ---------------------------------------------------------------------------------

_FRENCH_MARKERS = re.compile(
    r"\b(le|la|les|des|du|de|un|une|est|et|pour|avec|sans|dans|sur|au|aux|aucune?|pas|ete"
    r"|lors|apres|chez|qui|que|ne|il|elle|[dlnj])\b"
)
_ENGLISH_MARKERS = re.compile(r"\b(the|and|was|were|of|to|with|has|had|is|this|that|for|in)\b")

# Multi-word French expressions first (accent-folded, apostrophes already spaces). The English
# side uses MAUDE's own wording where it has one ("no patient involvement or adverse
# consequences", "revision surgery", "returned to the manufacturer").
FRENCH_PHRASES: dict[str, str] = {
    # absence of harm
    "sans consequence pour le patient": "with no patient involvement or adverse consequences",
    "sans consequence clinique": "with no adverse consequences",
    "sans consequences": "with no adverse consequences",
    "sans consequence": "with no adverse consequences",
    "aucune consequence": "no adverse consequences",
    "sans dommage": "with no harm",
    "aucun dommage": "no harm",
    "sans prejudice": "with no harm",
    "aucun prejudice": "no harm",
    "sans impact clinique": "with no patient harm",
    "sans impact pour le patient": "with no patient harm",
    "sans impact": "with no patient harm",
    "pas d impact clinique": "no patient harm",
    "pas d impact": "no patient harm",
    "aucun impact": "no patient harm",
    "patient indemne": "no patient harm or injury",
    "patiente indemne": "no patient harm or injury",
    "sans gravite": "not serious",
    "sans blessure": "with no injury",
    "pas de blessure": "no injury",
    "aucune blessure": "no injury",
    "sans effet indesirable": "with no adverse event",
    "aucun effet indesirable": "no adverse event",
    "pas d effet indesirable": "no adverse event",
    "hors patient": "not in patient use",
    "avant utilisation": "prior to use",
    "avant toute utilisation": "prior to use",
    "avant l utilisation": "prior to use",
    "pas de patient implique": "no patient involvement",
    "aucun patient implique": "no patient involvement",
    # death
    "est decede": "died",
    "est decedee": "died",
    "est mort": "died",
    "est morte": "died",
    "n a pas survecu": "died",
    "n a pas pu etre reanime": "died",
    "n a pas pu etre reanimee": "died",
    "issue fatale": "fatal outcome",
    "constat de deces": "death",
    "arret cardio respiratoire": "cardiac arrest",
    "arret cardiorespiratoire": "cardiac arrest",
    "arret cardiaque": "cardiac arrest",
    "arret respiratoire": "respiratory arrest",
    # serious harm
    "reprise chirurgicale": "revision surgery",
    "reprise au bloc": "revision surgery",
    "retour au bloc": "revision surgery",
    "bloc operatoire": "operating room",
    "soins intensifs": "intensive care",
    "service de reanimation": "intensive care unit",
    "en reanimation": "in intensive care",
    "unite de soins intensifs": "intensive care unit",
    "pronostic vital engage": "life threatening",
    "mise en jeu du pronostic vital": "life threatening",
    "pronostic vital": "life threatening",
    "retard de diagnostic": "delayed diagnosis",
    "retard diagnostique": "delayed diagnosis",
    "diagnostic retarde": "delayed diagnosis",
    "retard de prise en charge": "delayed treatment",
    "retard de traitement": "delayed treatment",
    "perte de chance": "delayed treatment",
    "embolie pulmonaire": "pulmonary embolism",
    "detresse respiratoire": "respiratory distress",
    "insuffisance respiratoire": "respiratory failure",
    "accident vasculaire cerebral": "stroke",
    "choc anaphylactique": "anaphylactic shock",
    "choc electrique": "shock",
    "chocs electriques": "shocks",
    "effet indesirable grave": "serious adverse event",
    "evenement indesirable grave": "serious adverse event",
    "prise en charge": "treatment",
    "aux urgences": "to the emergency room",
    "passage aux urgences": "emergency room visit",
    "mise a jour": "software update",
    "faux negatif": "false negative",
    "faux negatifs": "false negatives",
    "faux positif": "false positive",
    "faux positifs": "false positives",
    "n a pas detecte": "did not detect",
    "n a pas signale": "did not flag",
    "n a pas identifie": "did not identify",
    "n a pas alerte": "did not alert",
    "n a pas declenche": "did not trigger",
    "n a pas ete": "was not",
    "n a pas": "did not",
    "n ont pas": "did not",
    "n est pas": "is not",
    "n etait pas": "was not",
    "ne sont pas": "are not",
    "pas de": "no",
    "pas d": "no",
    "fabricant": "manufacturer",
    "ne s est pas declenchee": "did not trigger",
    "ne s est pas declenche": "did not trigger",
    "sans declencher": "without triggering",
    "s est arrete": "stopped",
    "s est arretee": "stopped",
    "embolie gazeuse": "air embolism",
    "reaction allergique": "allergic reaction",
    "troubles respiratoires": "respiratory symptoms",
    "bistouri electrique": "electrosurgical unit",
    "retire du service": "taken out of service",
    "retiree du service": "taken out of service",
    "aide a la decision": "decision support",
    "retourne au fabricant": "returned to the manufacturer",
    "renvoye au fabricant": "returned to the manufacturer",
    "donnees d entrainement": "training data",
    "donnees d apprentissage": "training data",
    "jeu de donnees": "dataset",
    "base d apprentissage": "training data",
    "peau foncee": "darker skin",
    "peau noire": "dark skin",
    "se sont fies": "relied",
    "s est fie": "relied",
    "s est fiee": "relied",
    "sans verifier": "without checking",
    "aurait pu": "could have",
    "aurait pu entrainer": "could have caused",
    "risque de": "risk of",
    "sans verification": "without checking",
    "a la lettre": "blindly",
    "donnees personnelles": "personal data",
    "donnees de sante": "health data",
    "acces non autorise": "unauthorized access",
    "fuite de donnees": "data leak",
}

# Single French words (accent-folded) -> English. Elided articles (l', d', n', qu') are split off
# by folding and mapped to nothing.
FRENCH_WORDS: dict[str, str] = {
    # grammar
    "le": "the",
    "la": "the",
    "les": "the",
    "l": "",
    "d": "",
    "n": "",
    "qu": "",
    "s": "",
    "j": "",
    "c": "",
    "un": "a",
    "une": "a",
    "des": "",
    "du": "of the",
    "de": "of",
    "et": "and",
    "ou": "or",
    "est": "is",
    "etait": "was",
    "ete": "been",
    "a": "has",
    "ont": "have",
    "avait": "had",
    "par": "by",
    "pour": "for",
    "avec": "with",
    "sans": "without",
    "dans": "in",
    "sur": "on",
    "au": "to the",
    "aux": "to the",
    "en": "in",
    "lors": "during",
    "apres": "after",
    "avant": "before",
    "puis": "then",
    "pendant": "during",
    "malgre": "despite",
    "alerte": "alert",
    "alertes": "alerts",
    "chute": "fall",
    "jour": "day",
    "jours": "days",
    "nuit": "night",
    "heure": "hour",
    "heures": "hours",
    "semaine": "week",
    "mois": "months",
    "mais": "but",
    "cependant": "however",
    "toutefois": "however",
    "ne": "",
    "pas": "not",
    "aucun": "no",
    "aucune": "no",
    "ni": "nor",
    "jamais": "never",
    "pourrait": "could",
    "pourraient": "could",
    "peut": "can",
    "risque": "risk",
    "potentiel": "potential",
    "potentielle": "potential",
    "peur": "fear",
    "presque": "almost",
    "failli": "almost",
    "non": "not",
    "il": "he",
    "elle": "she",
    "patiente": "patient",
    "malade": "patient",
    "medecin": "physician",
    "chirurgien": "surgeon",
    "infirmiere": "nurse",
    "infirmier": "nurse",
    "equipe": "staff",
    # death
    "deces": "death",
    "decede": "deceased",
    "decedee": "deceased",
    "decedes": "deceased",
    "decedees": "deceased",
    "deceder": "die",
    "mort": "death",
    "morte": "dead",
    "succombe": "died",
    "succombee": "died",
    "fatal": "fatal",
    "fatale": "fatal",
    "mortel": "fatal",
    "mortelle": "fatal",
    "autopsie": "autopsy",
    "reanimation": "resuscitation",
    "reanime": "resuscitated",
    "reanimee": "resuscitated",
    # serious harm
    "hospitalise": "hospitalized",
    "hospitalisee": "hospitalized",
    "hospitalises": "hospitalized",
    "hospitalisation": "hospitalization",
    "rehospitalise": "hospitalized",
    "rehospitalisation": "hospitalization",
    "chirurgie": "surgery",
    "chirurgical": "surgical",
    "chirurgicale": "surgical",
    "operation": "surgery",
    "opere": "operated",
    "operee": "operated",
    "reintervention": "reoperation",
    "explantation": "explant",
    "explante": "explanted",
    "explantee": "explanted",
    "retrait": "removal",
    "retire": "removed",
    "retiree": "removed",
    "ablation": "removal",
    "revision": "revision",
    "remplacement": "replacement",
    "lesion": "injury",
    "lesions": "injuries",
    "blessure": "injury",
    "blessures": "injuries",
    "blesse": "injured",
    "blessee": "injured",
    "brulure": "burn",
    "brulures": "burns",
    "brule": "burned",
    "douleur": "pain",
    "douleurs": "pain",
    "douloureux": "painful",
    "infection": "infection",
    "hemorragie": "hemorrhage",
    "saignement": "bleeding",
    "fracture": "fracture",
    "perforation": "perforation",
    "erosion": "erosion",
    "transfusion": "transfusion",
    "transfuse": "transfused",
    "urgence": "emergency",
    "urgences": "emergency room",
    "aggravation": "deterioration",
    "deterioration": "deterioration",
    "degradation": "deterioration",
    "sequelle": "permanent damage",
    "sequelles": "permanent damage",
    "handicap": "disability",
    "invalidite": "disability",
    "intube": "intubated",
    "intubee": "intubated",
    "intubation": "intubation",
    "avc": "stroke",
    "infarctus": "myocardial infarction",
    "hypoxie": "hypoxia",
    "desaturation": "desaturation",
    "surdosage": "overdose",
    "surdose": "overdose",
    "sous dosage": "underdose",
    "hypoglycemie": "hypoglycemia",
    "malaise": "syncope",
    "syncope": "syncope",
    "convulsions": "seizures",
    "grave": "serious",
    "graves": "serious",
    "severe": "severe",
    "severes": "severe",
    "choc": "shock",
    "chocs": "shocks",
    "inapproprie": "inappropriate",
    "inappropries": "inappropriate",
    "inappropriee": "inappropriate",
    "complication": "complication",
    "complications": "complications",
    "traitement": "treatment",
    "retard": "delay",
    "retarde": "delayed",
    "tardif": "delayed",
    "tardive": "delayed",
    # no harm, device
    "indemne": "unharmed",
    "dispositif": "device",
    "appareil": "device",
    "materiel": "device",
    "machine": "device",
    "panne": "failure",
    "dysfonctionnement": "malfunction",
    "dysfonctionne": "malfunctioned",
    "defaillance": "failure",
    "defaut": "defect",
    "defectueux": "defective",
    "alarme": "alarm",
    "alarmes": "alarms",
    "batterie": "battery",
    "ecran": "display",
    "capteur": "sensor",
    "logiciel": "software",
    "logicielle": "software",
    "algorithme": "algorithm",
    "redemarre": "rebooted",
    "redemarrage": "reboot",
    "plantage": "crash",
    "plante": "crashed",
    "fige": "froze",
    "figee": "froze",
    "bloque": "froze",
    "remplace": "replaced",
    "remplacee": "replaced",
    "change": "replaced",
    "particules": "particles",
    "mousse": "foam",
    "fuite": "leak",
    "rupture": "rupture",
    "rompu": "ruptured",
    "rompue": "ruptured",
    "casse": "broken",
    "cassee": "broken",
    "fissure": "crack",
    "constate": "observed",
    "constatee": "observed",
    "signale": "reported",
    "signalee": "reported",
    "rapporte": "reported",
    "utilisation": "use",
    "utilise": "used",
    "patient": "patient",
    "bruit": "noise",
    "erreur": "error",
    "erreurs": "errors",
    "incident": "event",
    "evenement": "event",
    "verification": "inspection",
    "maintenance": "maintenance",
    "controle": "inspection",
    "ventilateur": "ventilator",
    "pompe": "pump",
    "perfusion": "infusion",
    "pousse": "syringe",
    "seringue": "syringe",
    "poche": "bag",
    "sonde": "lead",
    "defibrillateur": "defibrillator",
    "stimulateur": "pacemaker",
    "prothese": "prosthesis",
    "hanche": "hip",
    "genou": "knee",
    "mammaire": "breast",
    "cupule": "cup",
    "descelle": "loosened",
    "descellee": "loosened",
    "bandelette": "mesh",
    "vessie": "bladder",
    "filtre": "filter",
    "coeur": "heart",
    "retrouve": "found",
    "retrouvee": "found",
    "inconscient": "unresponsive",
    "inconsciente": "unresponsive",
    "agrafeuse": "stapler",
    "dialyse": "dialysis",
    "concentrateur": "concentrator",
    "oxygene": "oxygen",
    "lit": "bed",
    "freins": "brakes",
    "tuyau": "tubing",
    "ppc": "cpap",
    "symptome": "symptom",
    "symptomes": "symptoms",
    "echographie": "ultrasound",
    "tensiometre": "blood pressure monitor",
    "brassard": "cuff",
    "emballage": "packaging",
    "dechire": "torn",
    "catheter": "catheter",
    "application": "app",
    "connexion": "connection",
    "mesures": "readings",
    "perte": "loss",
    "scanner": "ct scan",
    "radiographie": "x ray",
    "greffe": "graft",
    "peau": "skin",
    "acidocetose": "ketoacidosis",
    "pneumonie": "pneumonia",
    "echoue": "failed",
    "autotest": "self test",
    "declenche": "triggered",
    "declenchee": "triggered",
    "survenu": "occurred",
    "survenue": "occurred",
    "inutile": "unnecessary",
    "systeme": "system",
    "serveur": "server",
    # AI suggestions
    "ia": "ai",
    "intelligence": "intelligence",
    "artificielle": "artificial",
    "modele": "model",
    "outil": "tool",
    "aide": "support",
    "recommande": "recommended",
    "recommandee": "recommended",
    "recommandation": "recommendation",
    "preconise": "recommended",
    "propose": "suggested",
    "proposee": "suggested",
    "suggere": "suggested",
    "suggeree": "suggested",
    "suggestion": "suggestion",
    "conseille": "advised",
    "posologie": "dosage",
    "dose": "dose",
    "prescription": "prescription",
    "detecte": "detected",
    "detectee": "detected",
    "detecter": "detect",
    "signaler": "flag",
    "manque": "missed",
    "manquee": "missed",
    "rate": "missed",
    "ratee": "missed",
    "omis": "missed",
    "nodule": "nodule",
    "fausse": "false",
    "faux": "false",
    "errone": "incorrect",
    "erronee": "incorrect",
    "erronees": "incorrect",
    "errones": "incorrect",
    "incorrect": "incorrect",
    "incorrecte": "incorrect",
    "trompeur": "misleading",
    "trompeuse": "misleading",
    "inventee": "invented",
    "femmes": "women",
    "femme": "woman",
    "enfants": "children",
    "enfant": "child",
    "agees": "elderly",
    "ages": "elderly",
    "origine": "origin",
    "ethnique": "ethnic",
    "biais": "bias",
    "discrimination": "discrimination",
    "sous represente": "underrepresented",
    "sous representes": "underrepresented",
    "sous representee": "underrepresented",
    "sous representees": "underrepresented",
    "accepte": "accepted",
    "acceptee": "accepted",
    "verifier": "checking",
    "invente": "invented",
    "fie": "relied",
    "fies": "relied",
    "confiance": "trust",
    "aveuglement": "blindly",
    "confidentialite": "privacy",
    "piratage": "hack",
    "pirate": "hacked",
    "rancongiciel": "ransomware",
    "cyberattaque": "cyberattack",
    "divulgue": "disclosed",
    "divulguees": "disclosed",
    "expose": "exposed",
    "exposees": "exposed",
    "entrainement": "training",
    "apprentissage": "training",
    "entraine": "trained",
    "validation": "validation",
}

# French words that are not also English words (their translation differs).
_FRENCH_ONLY = frozenset(k for k, v in FRENCH_WORDS.items() if k != v and len(k) >= 4)
_WORD = re.compile(r"[a-z]+")

_FRENCH_PHRASE_RE = re.compile(
    r"\b(?:"
    + "|".join(re.escape(p) for p in sorted(FRENCH_PHRASES, key=len, reverse=True))
    + r")\b"
)
_FRENCH_TOKEN = re.compile(r"[a-z]+|[.;:!?,()\"]")


def _french_to_english(text: str) -> str:
    text = _FRENCH_PHRASE_RE.sub(lambda m: f" {FRENCH_PHRASES[m.group(0)]} ", text)
    words = FRENCH_WORDS
    return " ".join(words.get(w, w) for w in _FRENCH_TOKEN.findall(text))


_A_GRAVE = re.compile(r"(?<![a-zà-ÿ])à(?![a-zà-ÿ])")
_FRENCH_ACCENTS = re.compile(r"[éèêàâçùûôîœ]")


def is_french(lower: str, folded: str) -> bool:
    """Whether a narrative reads as French: stop words, or accents when it is too short for them.

    ``lower`` is the lower-case text, ``folded`` the same with accents folded.
    """
    head = folded[:400]
    if head.count(" the ") + head.count(" and ") + head.count(" was ") >= 3:
        return False  # plainly English: skip the regular expressions
    french = len(_FRENCH_MARKERS.findall(head))
    english = len(_ENGLISH_MARKERS.findall(head))
    if french >= 2 and french > english:
        return True
    if english == 0 and french + sum(w in _FRENCH_ONLY for w in _WORD.findall(head)) >= 2:
        return True  # short text without stop words: "Aucune blessure, patient indemne."
    return french >= english and bool(_FRENCH_ACCENTS.search(lower[:400]))


# --- English canonical phrases and negation -------------------------------------------------

# Multi-word English expressions of death. Each group is only searched when its guard word is
# in the text (a substring test is cheap; 20 of them per report are not). Single words with the
# same role ("succumbed", "unharmed") are in the cue lexicon instead.
_ENGLISH_PHRASES: dict[str, dict[str, str]] = {
    "life": {
        "lost his life": "died",
        "lost her life": "died",
        "lost their life": "died",
        "took her own life": "suicide",
        "took his own life": "suicide",
    },
    "self": {
        "shot herself": "suicide",
        "shot himself": "suicide",
        "killed herself": "suicide",
        "killed himself": "suicide",
    },
    "passed away": {"passed away": "died"},
    "death": {
        "cause of death": "died",
        "date of death": "died",
        "time of death": "died",
        "death certificate": "died",
    },
    "survive": {"did not survive": "died"},
    "resuscitated": {"could not be resuscitated": "died"},
    "now gone": {"is now gone": "died"},
}
_ENGLISH_PHRASE_RES = tuple(
    (
        guard,
        tuple(
            (phrase, re.compile(r"\b" + re.escape(phrase) + r"\b"), replacement)
            for phrase, replacement in phrases.items()
        ),
    )
    for guard, phrases in _ENGLISH_PHRASES.items()
)


def _english_phrases(text: str) -> str:
    for guard, phrases in _ENGLISH_PHRASE_RES:
        if guard in text:
            for phrase, pattern, replacement in phrases:
                if phrase in text:
                    text = pattern.sub(replacement, text)
    return text


NEGATION_SCOPE = 8
# A negation covers the words after it up to punctuation, a contrast or a new clause.
_SCOPE_END = frozenset(
    [
        "but",
        "however",
        "although",
        "though",
        "except",
        "yet",
        "then",
        "while",
        "until",
        "whereas",
        "and",
        "that",
        "which",
        "who",
        "because",
        "after",
        "when",
        "since",
        "as",
        "where",
        "so",
        "due",
    ]
)
_NEGATION_TRIGGERS = frozenset(["no", "not", "without", "never", "nor", "none", "denies", "denied"])
# Harm that could, might or nearly have happened did not happen: the words in the scope of a
# hypothetical are marked too ("would be likely to cause ... death", "fear of dying").
_HYPOTHETICAL_TRIGGERS = frozenset(
    [
        "could",
        "would",
        "may",
        "might",
        "can",
        "likely",
        "potential",
        "potentially",
        "possible",
        "possibly",
        "risk",
        "risks",
        "fear",
        "afraid",
        "scared",
        "almost",
        "nearly",
        "concern",
        "concerned",
        "worried",
        "worry",
        "if",
        "prevent",
        "avoid",
    ]
)
# "He passed" is a death; "the device passed all tests" is not.
_PASSED = re.compile(
    r"\b(he|she|husband|wife|mother|father|mom|dad|son|daughter|brother|sister|patient|pt|friend)"
    r" (?:has |had |have )?passed(?! (?:the|all|a|an|its|inspection|testing|tests?|functional|"
    r"visual|through|out|by|over))\b"
)
# Words, numbers and the punctuation that ends a scope.
_PIECES = re.compile(r"[a-z0-9]+|[.;:!?,()\"]")

# --- cue lexicon ----------------------------------------------------------------------------

CUE_WORDS: dict[str, tuple[str, ...]] = {
    # A death stated as a fact about someone ("the patient expired", "autopsy"), apart from
    # words that often speak of death without one ("risk of death", "dying to", "dead battery").
    "death": (
        "died",
        "deceased",
        "expired",
        "expire",
        "expires",
        "fatality",
        "autopsy",
        "coroner",
        "decedent",
        "funeral",
        "succumbed",
        "demise",
    ),
    "death_mention": (
        "dies",
        "die",
        "dying",
        "death",
        "deaths",
        "dead",
        "fatal",
        "suicide",
        "mortality",
    ),
    "arrest": ("arrest", "resuscitation", "resuscitated", "cpr", "asystole", "suicide"),
    "hospital": (
        "hospitalized",
        "hospitalised",
        "hospitalization",
        "hospitalisation",
        "admitted",
        "admission",
        "icu",
        "intensive",
        "emergency",
        "intubated",
        "intubation",
        "ventilated",
    ),
    "surgery": (
        "surgery",
        "surgeries",
        "surgical",
        "revision",
        "revised",
        "reoperation",
        "explant",
        "explanted",
        "explantation",
        "operated",
        "excision",
        "reimplanted",
    ),
    "harm": (
        "injury",
        "injuries",
        "injured",
        "harm",
        "harmed",
        "pain",
        "painful",
        "burn",
        "burns",
        "burned",
        "bleeding",
        "hemorrhage",
        "infection",
        "perforation",
        "erosion",
        "complication",
        "complications",
        "stroke",
        "embolism",
        "seizures",
        "syncope",
        "hypoxia",
        "overdose",
        "underdose",
        "deterioration",
        "disability",
        "consequences",
        "consequence",
        "adverse",
        "serious",
        "severe",
        "threatening",
        "illness",
        "affected",
        "shock",
        "shocks",
        "involvement",
        "impact",
    ),
    "malfunction": (
        "malfunction",
        "malfunctioned",
        "failure",
        "failed",
        "defect",
        "defective",
        "alarm",
        "alarms",
        "error",
        "errors",
        "replaced",
        "returned",
        "service",
        "evaluation",
        "inspection",
        "maintenance",
        "particles",
        "foam",
        "leak",
        "broken",
        "crack",
        "noise",
    ),
    "software": (
        "software",
        "firmware",
        "algorithm",
        "algorithms",
        "ai",
        "artificial",
        "app",
        "application",
        "chatbot",
        "bug",
        "glitch",
        "crash",
        "crashed",
        "froze",
        "freeze",
        "frozen",
        "reboot",
        "rebooted",
        "program",
        "computer",
        "update",
        "upgrade",
    ),
    "ai_output": (
        "output",
        "prediction",
        "predicted",
        "score",
        "scores",
        "classifier",
        "automated",
        "autonomous",
        "generated",
        "generator",
        "model",
    ),
    "missed": (
        "missed",
        "overlooked",
        "undetected",
        "undiagnosed",
        "negatives",
        "negative",
    ),
    "false_output": (
        "false",
        "incorrect",
        "incorrectly",
        "wrong",
        "wrongly",
        "erroneous",
        "misleading",
        "inaccurate",
        "misclassified",
        "misidentified",
        "fabricated",
        "invented",
        "hallucinated",
        "hallucination",
        "positives",
        "positive",
    ),
    "recommend": (
        "recommended",
        "recommendation",
        "recommendations",
        "recommend",
        "suggested",
        "suggestion",
        "advised",
        "advice",
        "dose",
        "dosage",
        "dosing",
        "prescription",
        "prescribed",
        "treatment",
        "instructed",
    ),
    "bias": (
        "bias",
        "biased",
        "discrimination",
        "discriminatory",
        "racial",
        "race",
        "racist",
        "black",
        "ethnic",
        "ethnicity",
        "minority",
        "minorities",
        "women",
        "woman",
        "gender",
        "sexist",
        "darker",
        "dark",
        "skin",
        "elderly",
        "children",
        "underrepresented",
        "disparity",
        "disparities",
        "unfair",
    ),
    "reliance": (
        "relied",
        "rely",
        "relying",
        "reliance",
        "overreliance",
        "trusted",
        "trust",
        "blindly",
        "complacency",
        "automation",
        "checking",
        "verifying",
        "accepted",
        "unverified",
    ),
    "privacy": (
        "privacy",
        "private",
        "personal",
        "leak",
        "leaked",
        "breach",
        "hack",
        "hacked",
        "hacker",
        "unauthorized",
        "ransomware",
        "cyberattack",
        "cyber",
        "security",
        "exposed",
        "disclosed",
        "confidential",
        "mailbox",
        "email",
        "recipient",
        "data",
        "surveillance",
        "identifiable",
    ),
    "training": (
        "training",
        "trained",
        "dataset",
        "datasets",
        "validation",
        "validated",
        "retrained",
        "representative",
        "underrepresented",
        "drift",
        "cohort",
    ),
}
CUE_OF_WORD: dict[str, str] = {}
for _cue, _words in CUE_WORDS.items():
    for _w in _words:
        CUE_OF_WORD.setdefault(_w, f"cue_{_cue}")
        CUE_OF_WORD.setdefault(f"neg_{_w}", f"cue_neg_{_cue}")
        CUE_OF_WORD.setdefault(f"hyp_{_w}", f"cue_neg_{_cue}")
# Words that state the absence of harm on their own.
for _w in ("unharmed", "unhurt", "uninjured", "asymptomatic"):
    CUE_OF_WORD[_w] = "cue_neg_harm"
# Negated detection verbs are misses ("did not detect", "n'a pas signalé").
for _w in ("detect", "detected", "flag", "flagged", "identify", "identified", "alert", "alerted"):
    CUE_OF_WORD[f"neg_{_w}"] = "cue_missed"
    CUE_OF_WORD.setdefault(_w, "cue_detect")
for _w in ("recognize", "recognise", "recognized", "see", "notice", "trigger", "triggered"):
    CUE_OF_WORD[f"neg_{_w}"] = "cue_missed"


# ASCII text (almost all English) skips the dictionary-based folding.
_ASCII_FOLD = bytes.maketrans(b"'-/_`\n", b"     .")


def _prepare(text: str) -> tuple[str, bool]:
    """Lower case, accents folded, French mapped to English, canonical phrases; and the language."""
    lower = text.lower()
    if lower.isascii():
        folded = lower.encode("ascii").translate(_ASCII_FOLD).decode("ascii")
    else:
        folded = lower.translate(_FOLD)
    if "(b)" in folded:
        folded = _REDACTION.sub(" ", folded)
    french = is_french(lower, folded)
    if french:
        # "à" (to) folds onto "a" (has): keep it apart before folding loses the accent.
        folded = _french_to_english(
            _REDACTION.sub(" ", _A_GRAVE.sub(" to ", lower).translate(_FOLD))
        )
    folded = _english_phrases(folded)
    if "passed" in folded:
        folded = _PASSED.sub(r"\1 died", folded)
    return folded, french


def _scan(prepared: str) -> tuple[list[str], list[str]]:
    """Words with negation and hypothetical scope marked, and the lexicon cues they carry.

    A trigger marks up to ``NEGATION_SCOPE`` following words (``neg_`` or ``hyp_``); punctuation,
    a scope-ending word ("but", "and", "which", ...) or another trigger ends the scope. Numbers
    count in the scope but are not words; single letters are dropped.
    """
    words: list[str] = []
    cues: list[str] = []
    prefix = ""
    left = 0
    cue_of = CUE_OF_WORD
    for piece in _PIECES.findall(prepared):
        if piece in _NEGATION_TRIGGERS:
            prefix, left = "neg_", NEGATION_SCOPE
        elif piece in _HYPOTHETICAL_TRIGGERS:
            prefix, left = "hyp_", NEGATION_SCOPE
        elif left:
            if piece in _SCOPE_END or not piece[0].isalnum():
                left = 0
            else:
                left -= 1
                if not piece.isdigit():
                    piece = prefix + piece
                    words.append(piece)
                    cue = cue_of.get(piece)
                    if cue is not None:
                        cues.append(cue)
                continue
        if len(piece) < 2 or not piece[0].isalpha() or piece.isdigit():
            continue
        words.append(piece)
        cue = cue_of.get(piece)
        if cue is not None:
            cues.append(cue)
    return words, cues


def normalise(text: str) -> tuple[str, bool]:
    """The words the model reads, as text (negated and hypothetical ones marked); and the language.

    For reading and tests; ``analyse`` is what the model uses.
    """
    prepared, french = _prepare(text)
    return " ".join(_scan(prepared)[0]), french


CUE_NAMES: tuple[str, ...] = tuple(
    sorted({f"cue_{c}" for c in CUE_WORDS} | {f"cue_neg_{c}" for c in CUE_WORDS} | {"cue_detect"})
)


def analyse(text: str) -> tuple[list[str], list[str]]:
    """Words (negated and hypothetical ones marked) and lexicon cues: what the model reads.

    No word bigrams: on held-out device families they did not improve the validation figures and
    they halve the throughput.
    """
    return _scan(_prepare(text)[0])
