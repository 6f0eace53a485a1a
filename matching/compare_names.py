"""Name comparison levels: one name field against another, and given+family with swaps."""

from rapidfuzz.distance import JaroWinkler, Levenshtein

from matching.evidence import FieldComparison, NameLevel
from matching.frequency import NameFrequencies
from matching.names import NameKey, combine_name_keys

# Below this skeleton length one edit changes too much of a name to call it a typo.
MIN_SKELETON_FOR_TYPO = 3
MIN_SPELLING_SIMILARITY = 0.92  # Jaro-Winkler on canonical spellings of the same script

_AGREEING = frozenset(
    {NameLevel.EXACT, NameLevel.VARIANT, NameLevel.CROSS_SCRIPT, NameLevel.SKELETON}
)


def name_level(a: NameKey, b: NameKey) -> NameLevel:
    """Agreement level of two name keys (the hot path: equality tests before any fuzzing)."""
    if not a or not b:
        return NameLevel.MISSING
    same_script = a.script == b.script and a.script != "mixed"
    if same_script and a.joined == b.joined:
        exact = a.text.casefold() == b.text.casefold()
        return NameLevel.EXACT if exact else NameLevel.VARIANT
    if a.skeleton == b.skeleton and a.skeleton:
        return NameLevel.SKELETON if same_script else NameLevel.CROSS_SCRIPT
    if a.sorted_skeletons == b.sorted_skeletons and a.sorted_skeletons:
        return NameLevel.REORDERED
    parts_a, parts_b = a.sorted_skeletons, b.sorted_skeletons
    if _is_part_of(parts_a, parts_b) or _is_part_of(parts_b, parts_a):
        return NameLevel.PARTIAL
    if _looks_like_typo(a, b, same_script):
        return NameLevel.SIMILAR
    return NameLevel.DIFFERENT


def _is_part_of(shorter: tuple[str, ...], longer: tuple[str, ...]) -> bool:
    if not shorter or len(shorter) >= len(longer):
        return False
    remaining = list(longer)
    for part in shorter:
        if part not in remaining:
            return False
        remaining.remove(part)
    return True


def _looks_like_typo(a: NameKey, b: NameKey, same_script: bool) -> bool:
    long_enough = min(len(a.skeleton), len(b.skeleton)) >= MIN_SKELETON_FOR_TYPO
    if long_enough and Levenshtein.distance(a.skeleton, b.skeleton, score_cutoff=1) <= 1:
        return True
    if not same_script:
        return False
    similarity = JaroWinkler.similarity(a.joined, b.joined)
    return similarity >= MIN_SPELLING_SIMILARITY


_PHRASES = {
    NameLevel.EXACT: "{field} agrees ({a})",
    NameLevel.VARIANT: "{field} agrees ({a}≈{b})",
    NameLevel.CROSS_SCRIPT: "{field} agrees across scripts ({a}≈{b})",
    NameLevel.SKELETON: "{field} has the same consonants ({a}~{b})",
    NameLevel.SWAPPED: "given and family names swapped ({a}~{b})",
    NameLevel.REORDERED: "{field} agrees in another order ({a}~{b})",
    NameLevel.PARTIAL: "{field} partly agrees ({a}~{b})",
    NameLevel.SIMILAR: "{field} is similar, possibly a typo ({a}~{b})",
    NameLevel.DIFFERENT: "{field} differs ({a}≠{b})",
    NameLevel.MISSING: "{field} missing",
}


def _weight(
    level: NameLevel, a: NameKey, b: NameKey, frequencies: NameFrequencies | None
) -> float | None:
    if frequencies is None or level in (NameLevel.DIFFERENT, NameLevel.MISSING):
        return None
    if level in (NameLevel.PARTIAL, NameLevel.SIMILAR):
        return min(frequencies.bits(a), frequencies.bits(b))  # only the smaller name agrees
    return frequencies.bits(a)


def _comparison(
    field: str, level: NameLevel, a: NameKey, b: NameKey, frequencies: NameFrequencies | None
) -> FieldComparison:
    phrase = _PHRASES[level].format(field=field, a=a.text, b=b.text)
    return FieldComparison(field, level, phrase, _weight(level, a, b, frequencies))


def compare_names(
    field: str, a: NameKey, b: NameKey, frequencies: NameFrequencies | None = None
) -> FieldComparison:
    """Compare one name field, e.g. compare_names("father name", key_a, key_b, table)."""
    return _comparison(field, name_level(a, b), a, b, frequencies)


def compare_full_names(
    a_given: NameKey,
    a_family: NameKey,
    b_given: NameKey,
    b_family: NameKey,
    frequencies: NameFrequencies | None = None,
    field: str = "name",
) -> FieldComparison:
    """Compare given + family name as one name, detecting a given/family swap.

    A record holding the whole name in the given-name field compares equal to one that splits
    it, because the fields are joined in order before comparing.
    """
    a = combine_name_keys(a_given, a_family)
    b = combine_name_keys(b_given, b_family)
    level = name_level(a, b)
    if level not in _AGREEING and all((a_given, a_family, b_given, b_family)):
        crossed = name_level(a_given, b_family), name_level(a_family, b_given)
        if all(cross in _AGREEING for cross in crossed):
            level = NameLevel.SWAPPED
    return _comparison(field, level, a, b, frequencies)
