"""The search key of a name in its own script (`exchange.keys.native_name_key`): stable under
itself, blind to what keyboards and writers vary, and the plain key for Latin text."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from exchange.keys import SEARCH_KEYS, name_key, native_name_key

# Arabic-script letters, the Arabic/Persian variants among them, marks, tatweel, ZWNJ, spaces
_ARABIC_TEXT = st.text(
    alphabet=st.sampled_from(
        [*"ابپتثجچحخدذرزژسشصضطظعغفقکگلمنوهیيكةۀأإآءئؤ", "\u064e", "\u0651", "ـ", "\u200c", " "]
    ),
    max_size=40,
)
# Arabic keyboard letter -> the Dari/Persian keyboard's letter for the same name
_KEYBOARDS = str.maketrans({"ي": "ی", "ك": "ک"})


@given(_ARABIC_TEXT)
def test_the_key_is_its_own_key(text: str) -> None:
    key = native_name_key(text)
    assert native_name_key(key) == key


@given(_ARABIC_TEXT)
def test_an_arabic_and_a_persian_keyboard_give_one_key(text: str) -> None:
    assert native_name_key(text) == native_name_key(text.translate(_KEYBOARDS))


@given(_ARABIC_TEXT)
def test_vowel_marks_and_tatweel_do_not_count(text: str) -> None:
    marked = "".join(letter + "\u064e" if letter != " " else letter for letter in text)
    assert native_name_key(marked) == native_name_key(text.replace("\u064e", ""))


@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40))
def test_latin_text_keys_as_the_latin_fields_do(text: str) -> None:
    assert native_name_key(text) == name_key(text)


def test_compounds_written_apart_key_as_written_together() -> None:
    assert native_name_key("عبد الرحمن") == native_name_key("عبدالرحمن")
    assert native_name_key("نور الله") == native_name_key("نورالله")
    assert native_name_key("محمد نبی") != native_name_key("محمدنبی")  # two names stay two


@given(st.text(max_size=60) | _ARABIC_TEXT)
def test_a_key_is_no_longer_than_its_text_casefolded_when_the_text_is_nfkc(text: str) -> None:
    """What lets `field_rules.key_too_long` skip computing the key of most names."""
    if unicodedata.is_normalized("NFKC", text):
        for key in SEARCH_KEYS.values():
            assert len(key(text)) <= len(text.casefold())
