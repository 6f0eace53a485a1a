"""The consonant-skeleton rules shared by Latin and Arabic-script names (docs/matching.md)."""

import re

# Lowercase Latin consonants plus one capital per digraph: X=kh, G=gh, S=sh, C=ch.
SKELETON_ALPHABET = frozenset("bdfghjklmnprstzXGSC")
_OUTSIDE_ALPHABET = re.compile(f"[^{''.join(sorted(SKELETON_ALPHABET))}]")
_DOUBLED = re.compile(r"(.)\1+")


def finish_skeleton(consonants: str) -> str:
    """Collapse doubled consonants and drop a final h (Fatimah, Shah, -ullah).

    Arabic script writes a final vowel with heh and Latin spellings add or omit h at the end, so
    a final h is no evidence either way; shadda (doubling) is unwritten in Arabic script.
    """
    # Letters without a Latin counterpart (rare Arabic-script letters) carry no shared evidence.
    collapsed = _DOUBLED.sub(r"\1", _OUTSIDE_ALPHABET.sub("", consonants))
    if len(collapsed) > 1 and collapsed.endswith("h"):
        return collapsed[:-1]
    return collapsed
