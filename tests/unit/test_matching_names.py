"""Name normalisation (Latin and Arabic script), skeleton keys, frequencies and name levels."""

import random
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from matching.arabic import arabic_tokens, normalize_arabic
from matching.compare_names import compare_full_names, compare_names, name_level
from matching.evidence import NameLevel
from matching.frequency import NameFrequencies
from matching.latin import canonical_token, canonical_tokens
from matching.names import name_key
from matching.skeleton import SKELETON_ALPHABET

# Every variant domain.md lists, and more, with the canonical tokens it must reach.
VARIANTS = [
    (("mohamad",), ["Mohammad", "Muhammad", "Mohammed", "Mohd", "Md", "Md.", "Mohamad"]),
    (("mohamad",), ["Mahmad", "Muhammed", "Mohamed", "MOHAMMAD", "Muḥammad", "Mohammad-"]),
    (("ahmad",), ["Ahmad", "Ahmed", "ahmad"]),
    (("abdulrahman",), ["Abdul Rahman", "Abdulrahman", "Abdur Rahman", "Abdul Rehman"]),
    (("abdulrahman",), ["Abdurrahman", "Abd al-Rahman", "Abdul-Rahman", "Abd-ur-Rahman"]),
    (("abdulrahman",), ["Abdol Rahman", "Abdel Rahman", "Abdurahman", "ABDUL REHMAN"]),
    (("nurullah",), ["Noorullah", "Noorulla", "Noor Ullah", "Nurullah", "Nur Ulla", "Noor-ullah"]),
    (("rahmatullah",), ["Rahmatullah", "Rahmatulla", "Rahmat Ullah", "Rahmatollah"]),
    (("nur",), ["Noor", "Nur", "Nour"]),
    (("mahmud",), ["Mahmood", "Mahmud", "Mehmood", "Mahmoud"]),
    (("shafik",), ["Shafiq", "Shafeeq", "Shafik", "Shafeek", "SHAFIQ"]),
    (("rashid",), ["Rashid", "Rasheed"]),
    (("tarik",), ["Tariq", "Tarik", "Tareq"]),
    (("sayed",), ["Sayed", "Sayyid", "Syed", "Said", "Sa'id", "Sayyed", "Seyed"]),
    (("yusuf",), ["Yousuf", "Yusuf", "Yousef", "Yusof", "Yousaf"]),
    (("ahmadzai",), ["Ahmadzai", "Ahmadzay", "Ahmadzi", "Ahmad Zai", "Ahmedzai", "Ahmad-Zai"]),
    (("wahid",), ["Wahid", "Vahid", "Waheed"]),
    (("parwiz",), ["Parwiz", "Parviz", "Perwaiz", "Pervez"]),
    (("khalid",), ["Khalid", "Khaled", "Khalid'"]),
    (("ghulam",), ["Ghulam", "Gulam", "Gholam"]),
    (("shamsuddin",), ["Shamsuddin", "Shamsudin", "Shams ud Din", "Shams-ud-Din", "Shamsud Din"]),
    (("ziaulhak",), ["Ziaulhaq", "Zia ul Haq", "Zia-ul-Haq", "Ziaul Haq"]),
    (("abdullah",), ["Abdullah", "Abdulla", "Abd Allah"]),
    (("fatima",), ["Fatima", "Fatimah", "Fatemeh", "Fatema"]),
    (("husain",), ["Hussain", "Husain", "Hussein", "Hossain"]),
    (("gul", "ahmad"), ["Gul Ahmad", "Gul Ahmed", "gul  ahmad"]),
    (("abdali",), ["Abdali"]),
    (("mansur", "rahman"), ["Mansoor Rahman", "Mansur Rehman"]),
]


@pytest.mark.parametrize(("canonical", "spellings"), VARIANTS)
def test_listed_variants_reach_their_canonical_form(
    canonical: tuple[str, ...], spellings: list[str]
) -> None:
    for spelling in spellings:
        assert canonical_tokens(spelling) == canonical, spelling


# Latin transliteration, Arabic-script spelling (Dari/Pashto), one pair per line.
SCRIPT_PAIRS = [
    ("Mohammad", "محمد"),
    ("Ahmad", "احمد"),
    ("Abdul Rahman", "عبدالرحمن"),
    ("Abdur Rahman", "عبد الرحمن"),
    ("Gul", "گل"),
    ("Khan", "خان"),
    ("Shafiq", "شفیق"),
    ("Yousuf", "یوسف"),
    ("Noorullah", "نورالله"),
    ("Noor Ullah", "نور الله"),
    ("Rahmatullah", "رحمت‌الله"),
    ("Abdullah", "عبدالله"),
    ("Fatima", "فاطمه"),
    ("Shah", "شاه"),
    ("Ahmadzai", "احمدزی"),
    ("Shamsuddin", "شمس‌الدین"),
    ("Ziaul Haq", "ضیاءالحق"),
    ("Sayed", "سید"),
    ("Ishaq", "اسحاق"),
    ("Ghulam", "غلام"),
    ("Zalmai", "ځلمی"),
    ("Wahid", "وحید"),
    ("Parwiz", "پرویز"),
    ("Usman", "عثمان"),
    ("Ali", "علی"),
    ("Hussain", "حسین"),
    ("Karim", "كريم"),
    ("Zainab", "زینب"),
    ("Maryam", "مریم"),
    ("Jan", "جان"),
    ("Pashtun", "پښتون"),
    ("Khwaja", "خواجه"),
    ("Daud", "داود"),
    ("Ibrahim", "ابراهیم"),
    ("Yaqub", "یعقوب"),
    ("Qasim", "قاسم"),
    ("Ramazan", "رمضان"),
    ("Aisha", "عایشه"),
    ("Zahra", "زهرا"),
    ("Nasrin", "نسرین"),
    ("Haji", "حاجی"),
    ("Habibur Rahman", "حبیب الرحمن"),
    ("Zabihullah", "ذبیح الله"),
    ("Chaman", "چمن"),
    ("Zhwak", "ژواک"),
    ("Wazhma", "وږمه"),
    ("Mirwais", "میرویس"),
    ("Tahir", "طاهر"),
    ("Patang", "پتنګ"),
    ("Sardar", "سردار"),
    ("Salahuddin", "صلاح‌الدین"),
    ("Salah Uddin", "صلاح الدین"),
    ("Ishaqzai", "اسحاق‌زی"),
]


@pytest.mark.parametrize(("latin", "arabic"), SCRIPT_PAIRS)
def test_latin_and_arabic_spellings_share_a_skeleton(latin: str, arabic: str) -> None:
    latin_key, arabic_key = name_key(latin), name_key(arabic)
    assert latin_key.script == "latin"
    assert arabic_key.script == "arabic"
    assert latin_key.skeleton == arabic_key.skeleton != ""
    assert name_level(latin_key, arabic_key) is NameLevel.CROSS_SCRIPT


@given(st.lists(st.sampled_from(SCRIPT_PAIRS), min_size=1, max_size=4))
def test_multi_part_names_keep_sharing_a_skeleton(pairs: list[tuple[str, str]]) -> None:
    latin = name_key(" ".join(latin for latin, _ in pairs))
    arabic = name_key(" ".join(arabic for _, arabic in pairs))
    assert latin.skeleton == arabic.skeleton
    assert latin.sorted_skeletons == arabic.sorted_skeletons


# Harakat (fatha, damma, kasra, shadda, sukun, tanwin), tatweel and the joiners.
ARABIC_NOISE = ["\u064e", "\u064f", "\u0650", "\u0651", "\u0652", "\u064b", "\u0640", "\u200d"]


@given(st.sampled_from(SCRIPT_PAIRS), st.lists(st.sampled_from(ARABIC_NOISE)), st.randoms())
def test_diacritics_tatweel_and_joiners_do_not_change_arabic_keys(
    pair: tuple[str, str], noise: list[str], rng: random.Random
) -> None:
    arabic = pair[1]
    letters = list(arabic)
    for mark in noise:
        letters.insert(rng.randrange(1, len(letters) + 1), mark)
    assert name_key("".join(letters)).skeleton == name_key(arabic).skeleton


@given(st.sampled_from([spelling for _, spellings in VARIANTS for spelling in spellings]))
def test_case_accents_and_punctuation_do_not_change_latin_keys(spelling: str) -> None:
    accented = unicodedata.normalize("NFD", spelling.swapcase()).replace("a", "á")
    assert name_key(f" -{accented}' ").tokens == name_key(spelling).tokens


latin_words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=14)


@given(latin_words)
def test_canonical_token_is_idempotent(word: str) -> None:
    canonical = canonical_token(word)
    assert canonical_token(canonical) == canonical


particles = st.sampled_from(
    ["abd", "abdul", "ul", "ur", "ud", "al", "zai", "ullah", "din", "haq", "rahman", "dr"]
)


@given(st.lists(particles | latin_words, max_size=6))
def test_latin_normalisation_is_idempotent(words: list[str]) -> None:
    tokens = canonical_tokens(" ".join(words))
    assert canonical_tokens(" ".join(tokens)) == tokens


@given(st.text())
def test_name_keys_are_stable_and_use_the_skeleton_alphabet(text: str) -> None:
    key = name_key(text)
    assert name_key(key.text) == key
    assert len(key.tokens) == len(key.skeletons)
    assert set(key.skeleton) <= SKELETON_ALPHABET
    assert normalize_arabic(normalize_arabic(text)) == normalize_arabic(text)


arabic_text = st.text(alphabet=st.characters(min_codepoint=0x0600, max_codepoint=0x06FF))


@given(arabic_text)
def test_arabic_normalisation_is_idempotent(text: str) -> None:
    tokens = arabic_tokens(text)
    assert arabic_tokens(" ".join(tokens)) == tokens


def test_mixed_script_names_are_keyed_per_script() -> None:
    mixed = name_key("Mohammad شفیق")
    assert mixed.script == "mixed"
    assert mixed.skeleton == name_key("Mohammad Shafiq").skeleton


def test_empty_names_give_empty_keys() -> None:
    for blank in (None, "", "   ", "123", "--"):
        key = name_key(blank)
        assert not key
        assert key.script == "none"


@pytest.mark.parametrize(
    ("a", "b", "level"),
    [
        ("Mohammad", "mohammad", NameLevel.EXACT),
        ("Shafiq", "Shafeeq", NameLevel.VARIANT),
        ("Abdul Rahman", "Abdulrahman", NameLevel.VARIANT),
        ("Gul Ahmad", "Gulahmad", NameLevel.VARIANT),
        ("Noor Ullah", "Noorullah", NameLevel.VARIANT),
        ("Mohammad", "محمد", NameLevel.CROSS_SCRIPT),
        ("Mohammad", "Mahmood", NameLevel.SKELETON),  # محمد and محمود differ only by a vowel
        ("Ahmad Gul", "Gul Ahmad", NameLevel.REORDERED),
        ("Mohammad Shafiq", "Shafiq", NameLevel.PARTIAL),
        ("Shafiq", "Shafiw", NameLevel.SIMILAR),
        ("Habibur Rahman", "Habiburahman", NameLevel.SIMILAR),
        ("Karim", "Rahim", NameLevel.DIFFERENT),
        ("Ali", "Ahmad", NameLevel.DIFFERENT),
        ("Ali", None, NameLevel.MISSING),
        ("Aya", "Iwa", NameLevel.DIFFERENT),  # no consonants at all is no evidence
    ],
)
def test_name_levels(a: str, b: str | None, level: NameLevel) -> None:
    assert name_level(name_key(a), name_key(b)) is level
    assert name_level(name_key(b), name_key(a)) is level


def test_phrases_name_the_field_and_both_spellings() -> None:
    outcome = compare_names("father name", name_key("Shafiq"), name_key("Shafeeq"))
    assert outcome.phrase == "father name agrees (Shafiq≈Shafeeq)"
    assert outcome.weight is None
    different = compare_names("given name", name_key("Karim"), name_key("Rahim"))
    assert different.phrase == "given name differs (Karim≠Rahim)"


def test_given_and_family_swap_is_detected() -> None:
    outcome = compare_full_names(
        name_key("Shafiq"), name_key("Ahmadzai"), name_key("Ahmadzay"), name_key("Shafeeq")
    )
    assert outcome.level is NameLevel.SWAPPED
    assert outcome.phrase.startswith("given and family names swapped")


def test_whole_name_in_given_field_matches_split_name_across_scripts() -> None:
    whole = compare_full_names(
        name_key("Shafiq Ahmadzai"), name_key(None), name_key("شفیق"), name_key("احمدزی")
    )
    assert whole.level is NameLevel.CROSS_SCRIPT


def test_rare_names_weigh_more_than_common_ones() -> None:
    frequencies = NameFrequencies.from_names(
        ["Mohammad"] * 60 + ["محمد"] * 30 + ["Muhammad Shafiq"] * 2 + ["Ahmad"] * 20 + [None]
    )
    assert frequencies.count("mhmd") == 92  # all scripts and spellings counted together
    assert frequencies.total == 114
    common = compare_names("given name", name_key("Mohammad"), name_key("Muhammad"), frequencies)
    rare = compare_names("given name", name_key("Shafiq"), name_key("Shafeeq"), frequencies)
    assert common.weight is not None
    assert rare.weight is not None
    assert rare.weight > 5 * common.weight
    assert frequencies.part_bits("unseen") == frequencies.part_bits("Sfk") + 1  # seen twice


def test_empty_frequency_table_gives_no_weight() -> None:
    frequencies = NameFrequencies({})
    assert frequencies.bits(name_key("Shafiq")) == 0.0
