"""Narrative normalisation: French and English narratives to one stream of English tokens and cues.

The model is trained on English reports (FDA MAUDE) and must read French ones. French text is
accent-folded and its severity and device vocabulary mapped to the English words MAUDE uses, so
that the English-trained weights fire on French cues. Negation scope is marked (``neg_`` prefix on
the words that follow "no", "not", "without", ... up to punctuation), so that "sans conséquence
pour le patient" and "no patient harm or injury" read as the absence of harm, not as harm.
Lexicon cues (``cue_death``, ``cue_neg_harm``, ...) pool synonyms into one feature each; a death
stated as a fact ("expired", "passed away", "cause of death": ``cue_death``) is kept apart from
the word death merely mentioned ("death", "dying", "dead": ``cue_death_mention``), which
litigation and recall templates use about patients who are alive. The word lists and patterns
are data (``lexicons/*.json``, read by ``lexicon``); this module is the reading.
"""

from __future__ import annotations

import re

from services.triage.model import lexicon

_LEXICONS = lexicon.load()

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

# ``str.translate`` with a dictionary looks every character up; replacing only the few characters
# the table maps (a regular expression finds them) gives the same text several times faster.
_FOLDED = re.compile("[" + re.escape("".join(map(chr, _FOLD))) + "]")
_FOLD_OF = {chr(k): v for k, v in _FOLD.items()}


def _fold(text: str) -> str:
    """``text.translate(_FOLD)``."""
    return _FOLDED.sub(lambda m: _FOLD_OF[m.group()], text)


_REDACTION = re.compile(r"\(\s*b\s*\)\s*\(\s*\d\s*\)")

# --- French ---------------------------------------------------------------------------------

_FRENCH_MARKERS = re.compile(r"\b(" + "|".join(_LEXICONS.french_markers) + r")\b")
_ENGLISH_MARKERS = re.compile(r"\b(" + "|".join(_LEXICONS.english_markers) + r")\b")

FRENCH_PHRASES: dict[str, str] = _LEXICONS.french_phrases
FRENCH_WORDS: dict[str, str] = _LEXICONS.french_words

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

_ENGLISH_PHRASES: dict[str, dict[str, str]] = _LEXICONS.english_phrases
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


NEGATION_SCOPE = _LEXICONS.scope_words
_SCOPE_END = frozenset(_LEXICONS.scope_end)
_NEGATION_TRIGGERS = frozenset(_LEXICONS.negation_triggers)
_HYPOTHETICAL_TRIGGERS = frozenset(_LEXICONS.hypothetical_triggers)
# "He passed" is a death; "the device passed all tests" is not.
_PASSED = re.compile(
    r"\b(" + "|".join(_LEXICONS.passed_subjects) + r") (?:has |had |have )?passed"
    r"(?! (?:" + "|".join(_LEXICONS.passed_not_before) + r"))\b"
)
_TRIGGERS = _NEGATION_TRIGGERS | _HYPOTHETICAL_TRIGGERS
# Words and numbers are runs of [a-z0-9]; the punctuation that ends a scope becomes "|", where
# the text is cut into clauses; anything else separates pieces.
_CLAUSES = bytes(
    c
    if chr(c).isascii() and (chr(c).islower() or chr(c).isdigit())
    else ord("|")
    if chr(c) in '.;:!?,()"'
    else ord(" ")
    for c in range(256)
)
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyz")

# --- cue lexicon ----------------------------------------------------------------------------

CUE_WORDS: dict[str, tuple[str, ...]] = _LEXICONS.cue_words
CUE_OF_WORD: dict[str, str] = {}
for _cue, _words in CUE_WORDS.items():
    for _w in _words:
        CUE_OF_WORD.setdefault(_w, f"cue_{_cue}")
        CUE_OF_WORD.setdefault(f"neg_{_w}", f"cue_neg_{_cue}")
        CUE_OF_WORD.setdefault(f"hyp_{_w}", f"cue_neg_{_cue}")
# Words that state the absence of harm on their own.
for _w in _LEXICONS.unharmed:
    CUE_OF_WORD[_w] = "cue_neg_harm"
# Negated detection verbs are misses ("did not detect", "n'a pas signalé").
for _w in _LEXICONS.detection_verbs:
    CUE_OF_WORD[f"neg_{_w}"] = "cue_missed"
    CUE_OF_WORD.setdefault(_w, "cue_detect")
for _w in _LEXICONS.recognition_verbs:
    CUE_OF_WORD[f"neg_{_w}"] = "cue_missed"


# The cues of the pieces ``read`` keeps: only those of words (a piece that is not a word never
# carries a cue, whatever the lexicon says).
_CUE_OF_PIECE: dict[str, str] = {
    w: c for w, c in CUE_OF_WORD.items() if "_" in w or (w >= "a0" and w not in _LETTERS)
}


# ASCII text (almost all English) skips the dictionary-based folding.
_ASCII_FOLD = bytes.maketrans(b"'-/_`\n", b"     .")


def _prepare(text: str) -> tuple[str, bool]:
    """Lower case, accents folded, French mapped to English, canonical phrases; and the language."""
    lower = text.lower()
    if lower.isascii():
        folded = lower.encode("ascii").translate(_ASCII_FOLD).decode("ascii")
    else:
        folded = _fold(lower)
    if "(b)" in folded:
        folded = _REDACTION.sub(" ", folded)
    french = is_french(lower, folded)
    if french:
        # "à" (to) folds onto "a" (has): keep it apart before folding loses the accent.
        folded = _french_to_english(_REDACTION.sub(" ", _fold(_A_GRAVE.sub(" to ", lower))))
    folded = _english_phrases(folded)
    if "passed" in folded:
        folded = _PASSED.sub(r"\1 died", folded)
    return folded, french


def is_word(piece: str) -> bool:
    """Whether a piece of text (a run of [a-z0-9]) is read as a word: two characters or more,
    opening on a letter. Numbers and single letters are not words."""
    return piece >= "a0" and piece not in _LETTERS


def _scan(prepared: str, *, pieces: bool = False) -> tuple[list[str], list[str]]:
    """Words with negation and hypothetical scope marked, and the lexicon cues they carry.

    A trigger marks up to ``NEGATION_SCOPE`` following words (``neg_`` or ``hyp_``); punctuation,
    a scope-ending word ("but", "and", "which", ...) or another trigger ends the scope. Numbers
    count in the scope but are not words; single letters are dropped.

    ``pieces``: clauses without a trigger keep every piece, numbers and single letters too (see
    ``read``); the marked words and the cues are the same.
    """
    # Punctuation ends every scope, so the text is read clause by clause (split at punctuation,
    # words split at anything else): a clause without a trigger keeps its words as they are, and
    # only the few clauses with one are walked word by word. Same reading as one regular
    # expression over the pieces, at a fraction of the cost.
    if not prepared.isascii():
        prepared = _NON_ASCII.sub(" ", prepared)  # never a word nor punctuation
    clauses = prepared.encode("ascii").translate(_CLAUSES).decode("ascii").split("|")
    words: list[str] = []
    triggers = _TRIGGERS
    for clause in clauses:
        found = clause.split()
        if triggers.isdisjoint(found):
            if pieces:
                words += found
            else:
                # Pieces are runs of [a-z0-9]: at least "a0" are those that open on a letter,
                # less the lone letters b..z; a lone "a" and numbers sort below it (``is_word``).
                words += [p for p in found if p >= "a0" and p not in _LETTERS]
            continue
        prefix = ""
        left = 0
        for piece in found:
            if piece in triggers:
                prefix = "neg_" if piece in _NEGATION_TRIGGERS else "hyp_"
                left = NEGATION_SCOPE
            elif left:
                if piece in _SCOPE_END:
                    left = 0
                else:
                    left -= 1
                    if not piece.isdigit():
                        words.append(prefix + piece)
                    continue
            if piece >= "a0" and piece not in _LETTERS:
                words.append(piece)
    cue_of = (_CUE_OF_PIECE if pieces else CUE_OF_WORD).get
    return words, list(filter(None, map(cue_of, words)))


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


def read(text: str) -> tuple[list[str], list[str]]:
    """``analyse`` for a model whose vocabularies hold words only (``is_word``, or prefixed).

    Clauses without a negation or hypothetical trigger keep every piece: numbers and single
    letters too, which such a vocabulary never holds, so they are dropped when the words are
    counted and the features are those ``analyse`` gives, element for element. The cues are
    the same. Not filtering the pieces of most clauses saves about a fifth of the reading (29
    against 36 µs a MAUDE narrative).
    """
    return _scan(_prepare(text)[0], pieces=True)
