"""Latin transliterations of Dari/Pashto names: folding spelling variants to one canonical token
and reducing a canonical token to its consonant skeleton."""

import re
import unicodedata
from functools import lru_cache

from matching.skeleton import finish_skeleton
from matching.variants import VARIANT_GROUPS

# Marks that transliterations use for ayn/hamza; they vanish so that Sa'id == Said.
_APOSTROPHES = dict.fromkeys(map(ord, "'`\u00b4\u02bb\u02bc\u02bd\u02be\u02bf\u2018\u2019\u2032"))
_NON_LETTERS = re.compile(r"[^a-z]+")
TITLES = frozenset({"mr", "mrs", "ms", "miss", "dr", "eng", "engr", "prof"})

# Vowel spellings that only record length, and letters English spelling adds or swaps.
_SPELLING_FOLDS = (("ee", "i"), ("oo", "u"), ("ou", "u"), ("ph", "f"), ("ck", "k"), ("q", "k"))
_C_NOT_CH = re.compile(r"c(?!h)")
_DOUBLED = re.compile(r"(.)\1+")
_FINAL_EH = re.compile(r"(?<=[a-z]{3})[ae]h$")  # Fatemeh/Fatimah -> fatema/fatima

# Compounds are split into stem + fixed part, so that each part is canonicalised on its own.
_ALLAH_SUFFIX = re.compile(r"(?P<stem>[a-z]{2,}?)(?:[uoa]ll?ah|[uoa]lla)")  # Noorulla(h), -ollah
_ZAI_SUFFIX = re.compile(r"(?P<stem>[a-z]{3,}?)(?:zai|zay|zaey)|(?P<long>[a-z]{4,}?)zi")
_ABD_PREFIX = re.compile(r"abd(?:[aeiou]?l?)(?P<rest>[a-z]{3,})")  # Abdul-, Abdur-, Abdol-, Abd-
# "Shamsuddin", "Ziaulhaq", "Habiburrahman": an assimilated Arabic article joins two names.
_DIN_COMPOUND = re.compile(r"(?P<stem>[a-z]{3,}?)(?:[uoe]d?|[uoae]l)d[ie]n")
_ARTICLE_COMPOUND = re.compile(
    r"(?P<stem>[a-z]{3,}?)(?:[uoae]l|u(?P<sun>[rsznt])(?=(?P=sun)))"
    r"(?P<element>(?:rahman|rehman|rahim|hak|huk|hake|amin|islam|zaman|nisa|nissa|huda|hoda"
    r"|hadi|bari|rashid|samad|salam|sattar|nur))"
)

# Particles written as separate words ("Abdul Rahman", "Noor Ullah", "Zia ul Haq", "Ahmad Zai").
_ABD_WORDS = frozenset({"abd", "abdu", "abdul", "abdal", "abdel", "abdol", "abdil", "abdur"})
_ABD_WORDS |= frozenset({"abdus", "abduz", "abdun", "abdush", "abdut", "abdud"})
_CONNECTOR_WORDS = frozenset({"ul", "ur", "us", "ud", "uz", "un", "ut", "al", "el", "ol"})
_SUFFIX_WORDS = frozenset({"ullah", "ulla", "ulah", "ollah", "olla", "allah", "alla", "zai", "zay"})
_SUFFIX_WORDS |= frozenset({"uddin", "udin", "eddin", "uldin", "aldin"})
# Second halves of article compounds, joined when the previous word ends in the article:
# "Ziaul Haq", "Shamsud Din", "Habibur Rahman" (the assimilated r of ar-Rahman).
_ARTICLE_ELEMENTS = frozenset({"din", "deen", "haq", "hak", "huq", "haque", "rahman", "rehman"})
_ARTICLE_ENDING = re.compile(r"[a-z]{3,}(?:[uoae]l|u(?P<sun>[rsztdn]))")


def fold_letters(word: str) -> str:
    """Fold length marks, q/k, c/k, x/ks, v/w and ph/f, keeping doubled letters."""
    for written, folded in _SPELLING_FOLDS:
        word = word.replace(written, folded)
    return _C_NOT_CH.sub("k", word).replace("x", "ks").replace("v", "w")


def fold_spelling(word: str, *, word_final: bool = True) -> str:
    """fold_letters, then doubled letters and, at the end of a word, -eh/-ah (Fatemeh -> fatema).

    Inside a compound the h is a consonant: Salah-uddin keeps it.
    """
    folded = _DOUBLED.sub(r"\1", fold_letters(word))
    return _FINAL_EH.sub("a", folded) if word_final else folded


def _build_variant_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for canonical, *variants in VARIANT_GROUPS:
        target = fold_spelling(canonical)
        for variant in (canonical, *variants):
            folded = fold_spelling(variant)
            if table.setdefault(folded, target) != target:
                raise ValueError(f"variant {variant!r} listed under two canonical names")
    return table


_VARIANTS = _build_variant_table()


def _join(left: str, right: str) -> str:
    """Concatenate parts, writing a letter doubled at the junction once (Abdul + Latif)."""
    if left and right and left[-1] == right[0]:
        return left + right[1:]
    return left + right


# Folding can expose a compound ending (Ahmadzee -> ahmadzi), so canonicalisation repeats
# until stable; real names settle in one or two rounds.
_MAX_ROUNDS = 6


@lru_cache(maxsize=1 << 16)
def canonical_token(word: str) -> str:
    """Canonical spelling of one lowercase ASCII word, compounds included (idempotent)."""
    return _settle(word, word_final=True)


@lru_cache(maxsize=1 << 16)
def _canonical_part(word: str) -> str:
    """Canonical spelling of a part of a compound, whose last letter is not word-final."""
    return _settle(word, word_final=False)


def _settle(word: str, word_final: bool) -> str:
    for _ in range(_MAX_ROUNDS):
        canonical = _canonical_once(word, word_final)
        if canonical == word:
            break
        word = canonical
    return word


def _canonical_once(word: str, word_final: bool) -> str:
    folded = fold_spelling(word, word_final=word_final)
    if (known := _VARIANTS.get(folded)) is not None:
        return known  # listed names are never split, so Abdali stays Abdali
    word = fold_letters(word)
    if match := _ALLAH_SUFFIX.fullmatch(word):
        return _join(_canonical_part(match["stem"]), "ullah")
    if match := _ZAI_SUFFIX.fullmatch(word):
        return _join(_canonical_part(match["stem"] or match["long"]), "zai")
    if match := _ABD_PREFIX.fullmatch(word):
        return _join("abdul", _settle(match["rest"], word_final))
    if match := _DIN_COMPOUND.fullmatch(word):
        return _join(_canonical_part(match["stem"]), "uddin")
    if match := _ARTICLE_COMPOUND.fullmatch(word):
        stem = _join(_canonical_part(match["stem"]), "ul")
        return _join(stem, _settle(match["element"], word_final))
    return folded


def latin_words(text: str) -> list[str]:
    """Lowercase ASCII words of a Latin-script name: no case, diacritics, apostrophes, titles."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_APOSTROPHES))
    ascii_only = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return [w for w in _NON_LETTERS.split(ascii_only) if w and w not in TITLES]


def _ends_in_article(word: str, following: str) -> bool:
    if fold_spelling(word) in _VARIANTS:
        return False  # a listed name such as Mansur, not Habib-ur
    match = _ARTICLE_ENDING.fullmatch(word)
    return match is not None and (match["sun"] is None or following.startswith(match["sun"]))


def join_particles(words: list[str]) -> list[str]:
    """Re-join particles written as separate words: Abdul Rahman, Noor Ullah, Zia ul Haq."""
    joined: list[str] = []
    pending = ""  # particles waiting for the word they prefix
    for word in words:
        if not pending and joined:
            if word in _SUFFIX_WORDS or (
                word in _ARTICLE_ELEMENTS and _ends_in_article(joined[-1], word)
            ):
                joined[-1] += word
                continue
            if word in _CONNECTOR_WORDS:
                pending = joined.pop() + word
                continue
        if word in _ABD_WORDS or word in _CONNECTOR_WORDS:
            pending += word
            continue
        joined.append(pending + word)
        pending = ""
    if pending:
        joined.append(pending)
    return joined


def canonical_tokens(text: str) -> tuple[str, ...]:
    """Canonical tokens of a Latin-script name, in written order (idempotent).

    A canonical token can itself be a particle (a stray "Aal" becomes "al"), so joining and
    canonicalising repeat until stable, as canonical_token does.
    """
    words = latin_words(text)
    for _ in range(_MAX_ROUNDS):
        tokens = [canonical_token(word) for word in join_particles(words)]
        if tokens == words:
            break
        words = tokens
    return tuple(word for word in words if word not in TITLES)


# Digraphs become one symbol each (upper case cannot collide with the lowercase letters).
_DIGRAPHS = (("kh", "X"), ("gh", "G"), ("sh", "S"), ("ch", "C"), ("zh", "z"))
# Spellings whose "sh" is s + h (Is-haq, Ishaqzai); "_" keeps the digraph rule off them.
_SYLLABLE_BREAKS = (("ishak", "is_hak"),)
# Vowels and the semivowels w/y: Arabic script writes only long ones, ambiguously, so none count.
_NOT_CONSONANT = re.compile(r"[aeiouwy_]")
# Canonical -uddin hides the article that Arabic script writes (Shams-al-Din).
_DIN_SUFFIX = "uddin"


def _consonants(token: str) -> str:
    if token.endswith(_DIN_SUFFIX) and len(token) > len(_DIN_SUFFIX):
        return _consonants(token.removesuffix(_DIN_SUFFIX)) + "ldn"
    for spelling, broken in _SYLLABLE_BREAKS:
        token = token.replace(spelling, broken)
    for digraph, symbol in _DIGRAPHS:
        token = token.replace(digraph, symbol)
    return _NOT_CONSONANT.sub("", token)


@lru_cache(maxsize=1 << 16)
def latin_skeleton(token: str) -> str:
    """Consonant skeleton of a canonical token, comparable with arabic.arabic_skeleton."""
    return finish_skeleton(_consonants(token))
