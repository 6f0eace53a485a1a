"""Name keys: a person's name in Latin and/or Arabic script reduced to canonical tokens and
consonant skeletons that compare across transliterations and scripts."""

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from matching.arabic import arabic_skeleton, arabic_tokens
from matching.latin import canonical_tokens, latin_skeleton

Script = Literal["latin", "arabic", "mixed", "none"]

# Arabic block, its supplement and presentation forms, plus the joiners used inside words.
_ARABIC_CHARS = "\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufefc\u200c\u200d"
_ARABIC_RUN = re.compile(f"([{_ARABIC_CHARS}]+(?:\\s+[{_ARABIC_CHARS}]+)*)")
_DOUBLED = re.compile(r"(.)\1+")


@dataclass(frozen=True, slots=True)
class NameKey:
    """Everything name comparison needs, computed once per name."""

    text: str  # the name as written, whitespace collapsed, for explanations
    script: Script
    tokens: tuple[str, ...]  # canonical Latin tokens and/or normalised Arabic-script tokens
    skeletons: tuple[str, ...]  # one per token, comparable across scripts
    joined: str  # tokens without spaces: Gul Ahmad == Gulahmad
    skeleton: str  # joined skeletons, doubled consonants collapsed at the junctions
    sorted_skeletons: tuple[str, ...]  # non-empty skeletons, sorted: order-free comparison

    def __bool__(self) -> bool:
        return bool(self.tokens)


def _make_key(text: str, parts: list[tuple[Script, tuple[str, ...], tuple[str, ...]]]) -> NameKey:
    tokens = tuple(token for _, part_tokens, _ in parts for token in part_tokens)
    skeletons = tuple(skeleton for _, _, part_skeletons in parts for skeleton in part_skeletons)
    scripts = {script for script, part_tokens, _ in parts if part_tokens}
    script: Script = scripts.pop() if len(scripts) == 1 else "mixed" if scripts else "none"
    return NameKey(
        text=text,
        script=script,
        tokens=tokens,
        skeletons=skeletons,
        joined="".join(tokens),
        skeleton=_DOUBLED.sub(r"\1", "".join(skeletons)),
        sorted_skeletons=tuple(sorted(filter(None, skeletons))),
    )


def _latin_part(text: str) -> tuple[Script, tuple[str, ...], tuple[str, ...]]:
    tokens = canonical_tokens(text)
    return "latin", tokens, tuple(latin_skeleton(token) for token in tokens)


def _arabic_part(text: str) -> tuple[Script, tuple[str, ...], tuple[str, ...]]:
    tokens = arabic_tokens(text)
    return "arabic", tokens, tuple(arabic_skeleton(token) for token in tokens)


@lru_cache(maxsize=1 << 18)
def name_key(raw: str | None) -> NameKey:
    """Key of one name field in any mix of Latin and Arabic script; empty key for None/blank."""
    text = " ".join((raw or "").split())
    # re.split with a capturing group alternates Latin-or-other text and Arabic-script runs.
    pieces = _ARABIC_RUN.split(text)
    parts = [
        _arabic_part(piece) if index % 2 else _latin_part(piece)
        for index, piece in enumerate(pieces)
        if piece.strip()
    ]
    return _make_key(text, parts)


def combine_name_keys(*keys: NameKey) -> NameKey:
    """One key for several fields in order, e.g. given + family name; empty keys are skipped."""
    present = [key for key in keys if key]
    if len(present) == 1:
        return present[0]
    return _make_key(
        " ".join(key.text for key in present),
        [(key.script, key.tokens, key.skeletons) for key in present],
    )


def full_name_key(*fields: str | None) -> NameKey:
    """Key of several name fields read as one name (given, family) in the order given."""
    return combine_name_keys(*(name_key(field) for field in fields))
