"""Arabic-script names (Dari, Pashto, Urdu spellings): letter-variant normalisation and the
consonant skeleton shared with Latin transliterations (see docs/matching.md)."""

import re
import unicodedata
from functools import lru_cache

from matching.skeleton import finish_skeleton

# Harakat, superscript alef, Quranic marks and tatweel carry no consonant information.
_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
# ZWNJ/ZWJ sit inside one word (Shams-al-Din written with ZWNJ); bidi marks are formatting.
_INVISIBLE = dict.fromkeys(map(ord, "\u200c\u200d\u200e\u200f\u061c\u202a\u202b\u202c"), None)


def _letters(*names: str) -> str:
    return "".join(unicodedata.lookup(f"ARABIC LETTER {name}") for name in names)


def _by_name(groups: dict[str | None, tuple[str, ...]]) -> dict[int, str | None]:
    """str.translate table from {replacement: (Unicode letter names...)}."""
    return {
        ord(letter): replacement
        for replacement, names in groups.items()
        for letter in _letters(*names)
    }


# Letters are named, not written: right-to-left glyphs are easy to misread in source code.
# One spelling per letter: Arabic kaf/yeh vs Persian ones, Pashto and Urdu yeh forms, hamza
# carriers, heh forms and teh marbuta, Pashto gaf.
_LETTER_VARIANTS = _by_name(
    {
        _letters("KEHEH"): ("KAF",),
        _letters("FARSI YEH"): (
            "YEH",
            "ALEF MAKSURA",
            "E",
            "YEH WITH TAIL",
            "YEH WITH HAMZA ABOVE",
            "YEH BARREE",
        ),
        _letters("HEH"): ("HEH WITH YEH ABOVE", "TEH MARBUTA", "HEH GOAL", "AE"),
        _letters("ALEF"): (
            "ALEF WITH HAMZA ABOVE",
            "ALEF WITH HAMZA BELOW",
            "ALEF WITH MADDA ABOVE",
            "ALEF WASLA",
        ),
        _letters("WAW"): ("WAW WITH HAMZA ABOVE", "U"),
        _letters("GAF"): ("KAF WITH RING",),
    }
)

_ARABIC_LETTERS = re.compile("[\u0621-\u064a\u066e-\u06d3\u06d5\u06fa-\u06ff]+")

# Skeleton symbols as in matching.latin: X=kh, G=gh, S=sh, C=ch. Pashto and Urdu letters fold
# onto the sound Latin spellings give them (dze -> z, tse -> s, xin -> sh, retroflexes plain).
_SKELETON_LETTERS = _by_name(
    {
        "b": ("BEH",),
        "p": ("PEH",),
        "t": ("TEH", "TAH", "TEH WITH RING", "TTEH"),
        "s": ("THEH", "SEEN", "SAD", "HAH WITH THREE DOTS ABOVE"),
        "j": ("JEEM",),
        "C": ("TCHEH",),
        "h": ("HAH", "HEH", "HEH DOACHASHMEE"),
        "X": ("KHAH",),
        "d": ("DAL", "DAL WITH RING", "DDAL"),
        "z": (
            "THAL",
            "ZAIN",
            "DAD",
            "ZAH",
            "JEH",
            "REH WITH DOT BELOW AND DOT ABOVE",
            "HAH WITH HAMZA ABOVE",
        ),
        "r": ("REH", "REH WITH RING", "RREH"),
        "S": ("SHEEN", "SEEN WITH DOT BELOW AND DOT ABOVE"),
        "G": ("GHAIN",),
        "f": ("FEH",),
        "k": ("QAF", "KEHEH"),
        "g": ("GAF",),
        "l": ("LAM",),
        "m": ("MEEM",),
        "n": ("NOON", "NOON WITH RING", "NOON GHUNNA"),
        # Long vowels, semivowels, ayn and hamza: unwritten or unreliable in Latin spellings.
        None: ("ALEF", "WAW", "FARSI YEH", "AIN", "HAMZA"),
    }
)

_ABD = _letters("AIN", "BEH", "DAL")
_ARTICLE = _letters("ALEF", "LAM")
# The Pashto tribal suffix written apart: Ahmad Zai.
_ZAI_WORDS = frozenset({_letters("ZAIN", "FARSI YEH"), _letters("ZAIN", "ALEF", "FARSI YEH")})


def normalize_arabic(text: str) -> str:
    """Strip diacritics, tatweel and invisible marks; unify letter variants.

    NFKC first turns presentation forms and the ﷲ ligature into ordinary letters.
    """
    composed = unicodedata.normalize("NFKC", text.translate(_INVISIBLE))
    return _MARKS.sub("", composed).translate(_LETTER_VARIANTS)


def join_particles(words: list[str]) -> list[str]:
    """Re-join compounds written apart: Abd al-Rahman, Nur Allah, Shams al-Din, Ahmad Zai."""
    joined: list[str] = []
    for word in words:
        belongs_to_previous = (word.startswith(_ARTICLE) and len(word) > 2) or word in _ZAI_WORDS
        if joined and (belongs_to_previous or joined[-1] == _ABD):
            joined[-1] += word
        else:
            joined.append(word)
    return joined


def arabic_tokens(text: str) -> tuple[str, ...]:
    """Normalised Arabic-script tokens of a name, compounds joined, in written order."""
    return tuple(join_particles(_ARABIC_LETTERS.findall(normalize_arabic(text))))


@lru_cache(maxsize=1 << 16)
def arabic_skeleton(token: str) -> str:
    """Consonant skeleton of a normalised Arabic-script token (Muhammad -> mhmd)."""
    return finish_skeleton(token.translate(_SKELETON_LETTERS))
