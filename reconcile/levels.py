"""Comparison levels of many candidate pairs at once. Each function gives, per pair, the level
`matching.compare` would give (as the enum's position, strongest first); equality cases are
array operations on interned ids and only the rest reaches the scalar comparison, once per
distinct pair of values. Tests check equality with `matching.compare` on random pairs."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from rapidfuzz import process
from rapidfuzz.distance import OSA, JaroWinkler, Levenshtein

from matching.compare import name_level
from matching.compare_names import MIN_SKELETON_FOR_TYPO, MIN_SPELLING_SIMILARITY
from matching.documents import MIN_LENGTH_FOR_NEAR_MISS
from matching.evidence import DateLevel, DocumentLevel, NameLevel
from reconcile.spaces import MIXED, DateSpace, IntArray, Interner, NameSpace

LevelArray = npt.NDArray[np.int8]
NAME_CODES = {level: code for code, level in enumerate(NameLevel)}
DATE_CODES = {level: code for code, level in enumerate(DateLevel)}
DOCUMENT_CODES = {level: code for code, level in enumerate(DocumentLevel)}
NAME = {level.name: np.int8(code) for level, code in NAME_CODES.items()}
DATE = {level.name: np.int8(code) for level, code in DATE_CODES.items()}
DOC = {level.name: np.int8(code) for level, code in DOCUMENT_CODES.items()}
AGREEING_NAME = int(NAME["SKELETON"])  # codes up to this one mean the names agree


def name_levels(names: NameSpace, a: IntArray, b: IntArray) -> LevelArray:
    """`matching.compare.name_level` of names[a[i]] and names[b[i]], for every i."""
    levels = equal_name_levels(names, a, b)
    rest = np.flatnonzero(levels == NAME["DIFFERENT"])
    if len(rest):
        # candidate pairs repeat the same two names many times over (Mohammad ~ Ahmad): the
        # string comparisons run once per distinct pair of name ids
        width = np.int64(len(names.keys))
        distinct, inverse = _distinct(a[rest] * width + b[rest])
        first, second = distinct // width, distinct % width
        scripts = names.arrays()["script"]
        same = (scripts[first] == scripts[second]) & (scripts[first] != MIXED)
        levels[rest] = _partial_or_similar(names, first, second, same)[inverse]
    return levels


def _distinct(codes: IntArray) -> tuple[IntArray, IntArray]:
    """(sorted distinct codes, index of each code among them), by a sort: numpy 2's
    hash-based `np.unique` is far slower on millions of large int64."""
    order = np.argsort(codes, kind="stable")
    ordered = codes[order]
    new = np.ones(len(ordered), np.bool_)
    new[1:] = ordered[1:] != ordered[:-1]
    inverse = np.empty(len(codes), np.int64)
    inverse[order] = np.cumsum(new) - 1
    return ordered[new], inverse


def equal_name_levels(names: NameSpace, a: IntArray, b: IntArray) -> LevelArray:
    """The levels that equality of interned keys decides (exact, variant, cross-script,
    skeleton, reordered, missing), DIFFERENT for every other pair. Cheap: no string is
    compared."""
    attrs = names.arrays()
    script_a, script_b = attrs["script"][a], attrs["script"][b]
    levels = np.full(len(a), NAME["DIFFERENT"], np.int8)
    same_script = (script_a == script_b) & (script_a != MIXED)
    joined = same_script & (attrs["joined"][a] == attrs["joined"][b])
    skeleton_a = attrs["skeleton"][a]
    skeleton = (skeleton_a == attrs["skeleton"][b]) & (skeleton_a != 0) & ~joined
    sorted_a = attrs["sorted"][a]
    reordered = (sorted_a == attrs["sorted"][b]) & (sorted_a != 0) & ~joined & ~skeleton
    exact = joined & (attrs["exact"][a] == attrs["exact"][b])
    levels[joined] = NAME["VARIANT"]
    levels[exact] = NAME["EXACT"]
    levels[skeleton & same_script] = NAME["SKELETON"]
    levels[skeleton & ~same_script] = NAME["CROSS_SCRIPT"]
    levels[reordered] = NAME["REORDERED"]
    levels[(script_a == 0) | (script_b == 0)] = NAME["MISSING"]
    return levels


def _partial_or_similar(
    names: NameSpace, a: IntArray, b: IntArray, same_script: npt.NDArray[np.bool_]
) -> LevelArray:
    """PARTIAL, SIMILAR or DIFFERENT for names that share neither spelling nor skeleton."""
    parts, plain = names.part_matrix()
    count_a, count_b = names.arrays()["parts"][a], names.arrays()["parts"][b]
    shorter = np.where(count_a < count_b, a, b)
    longer = np.where(count_a < count_b, b, a)
    contained = np.ones(len(a), np.bool_)
    for column in range(parts.shape[1]):
        part = parts[shorter, column]
        found = (parts[longer] == part[:, None]).any(axis=1)
        contained &= (part < 0) | found
    partial = contained & (count_a != count_b) & (np.minimum(count_a, count_b) > 0)
    levels = np.full(len(a), NAME["DIFFERENT"], np.int8)
    skeletons, joined = names.text_arrays()
    short_enough = np.minimum(names.skeleton_lengths()[a], names.skeleton_lengths()[b])
    typo = process.cpdist(
        skeletons[a], skeletons[b], scorer=Levenshtein.distance, score_cutoff=1, workers=1
    )
    similar = (short_enough >= MIN_SKELETON_FOR_TYPO) & (typo <= 1)
    check_spelling = np.flatnonzero(same_script & ~similar & ~partial)
    if len(check_spelling):
        spelling = process.cpdist(
            joined[a[check_spelling]],
            joined[b[check_spelling]],
            scorer=JaroWinkler.similarity,
            workers=1,
        )
        similar[check_spelling] = spelling >= MIN_SPELLING_SIMILARITY
    levels[similar] = NAME["SIMILAR"]
    levels[partial] = NAME["PARTIAL"]
    # names of more parts than the matrix holds, or with a repeated part: the scalar rule
    odd = np.flatnonzero(~plain[a] | ~plain[b])
    if len(odd):
        keys = names.keys
        levels[odd] = np.fromiter(
            (NAME_CODES[name_level(keys[x], keys[y])] for x, y in zip(a[odd], b[odd], strict=True)),
            np.int8,
            len(odd),
        )
    return levels


def date_levels(dates: DateSpace, a: IntArray, b: IntArray) -> LevelArray:
    """`matching.compare.birth_date_level` of dates[a[i]] and dates[b[i]], for every i."""
    d = dates.arrays()
    missing = (d["calendar"][a] < 0) | (d["calendar"][b] < 0)
    cross = d["calendar"][a] != d["calendar"][b]
    precision_a, precision_b = d["precision"][a], d["precision"][b]
    by_fields = (~cross | ((precision_a == 2) & (precision_b == 2))) & ~missing
    # field comparison, with exact Solar Hijri days converted when the calendars differ
    y_a = np.where(cross, d["gy"][a], d["fy"][a])
    y_b = np.where(cross, d["gy"][b], d["fy"][b])
    m_a = np.where(cross, d["gm"][a], d["fm"][a])
    m_b = np.where(cross, d["gm"][b], d["fm"][b])
    day_a = np.where(cross, d["gd"][a], d["fd"][a])
    day_b = np.where(cross, d["gd"][b], d["fd"][b])
    levels = np.full(len(a), DATE["DIFFERENT"], np.int8)
    same_year = y_a == y_b
    no_month = (m_a < 0) | (m_b < 0)
    field_level = np.select(
        [
            same_year & no_month,
            same_year & (m_a == m_b) & (day_a >= 0) & (day_a == day_b),
            same_year & (m_a == m_b),
            same_year & (m_a == day_b) & (day_a == m_b),
            same_year,
            (np.abs(y_a - y_b) == 1) & (m_a >= 0) & (m_a == m_b) & (day_a >= 0) & (day_a == day_b),
            np.abs(y_a - y_b) == 1,
        ],
        [
            DATE["YEAR_ONLY"],
            DATE["EXACT"],
            DATE["SAME_MONTH"],
            DATE["SWAPPED"],
            DATE["SAME_YEAR"],
            DATE["NEAR_YEAR_SAME_DAY"],
            DATE["NEAR_YEAR"],
        ],
        DATE["DIFFERENT"],
    )
    levels[by_fields] = field_level[by_fields]
    # across calendars at coarser precision: Gregorian ranges and year spans
    coarse = ~by_fields & ~missing
    year_only = (precision_a == 0) | (precision_b == 0)
    overlap = (d["lo"][a] <= d["hi"][b]) & (d["lo"][b] <= d["hi"][a])
    gap = np.maximum(d["span_lo"][a] - d["span_hi"][b], d["span_lo"][b] - d["span_hi"][a])
    coarse_level = np.select(
        [~year_only & overlap, gap <= 0, gap == 1],
        [
            DATE["SAME_MONTH"],
            np.where(year_only, DATE["YEAR_ONLY"], DATE["SAME_YEAR"]),
            DATE["NEAR_YEAR"],
        ],
        DATE["DIFFERENT"],
    ).astype(np.int8)
    levels[coarse] = coarse_level[coarse]
    levels[missing] = DATE["MISSING"]
    return levels


def document_levels(numbers: Interner, a: IntArray, b: IntArray) -> LevelArray:
    """Best `document_number_level` over the document types both records hold: a and b are
    (pairs, types) arrays of number ids, 0 where a record has no number of that type."""
    best = np.full(len(a), DOC["MISSING"], np.int8)
    for column in range(a.shape[1]):
        x, y = a[:, column], b[:, column]
        both = (x != 0) & (y != 0)
        level = np.where(x == y, DOC["EXACT"], DOC["DIFFERENT"]).astype(np.int8)
        slip = both & (x != y)
        if slip.any():
            first = [numbers.values[i] for i in x[slip].tolist()]
            second = [numbers.values[i] for i in y[slip].tolist()]
            distance = process.cpdist(first, second, scorer=OSA.distance, score_cutoff=1, workers=1)
            lengths = np.minimum(
                np.fromiter(map(len, first), np.int64, len(first)),
                np.fromiter(map(len, second), np.int64, len(second)),
            )
            near = (distance <= 1) & (lengths >= MIN_LENGTH_FOR_NEAR_MISS)
            level[slip] = np.where(near, DOC["NEAR"], DOC["DIFFERENT"])
        best = np.where(both, np.minimum(best, level), best).astype(np.int8)
    return best
