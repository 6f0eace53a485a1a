"""The message catalogue. Dari, Pashto and Urdu wording was written for this project and must
be reviewed by native speakers before use with the public (docs/letters.md)."""
# ruff: noqa: RUF001 - Urdu and Dari text legitimately contains Arabic-script punctuation

from __future__ import annotations

from i18n.negotiation import DEFAULT_LANGUAGE

LANGUAGES = ("en", "fa-AF", "ps-AF", "ur")

_MESSAGES: dict[str, dict[str, str]] = {
    "letter.valid": {
        "en": "This letter is valid.",
        "fa-AF": "این نامه معتبر است.",
        "ps-AF": "دا لیک معتبر دی.",
        "ur": "یہ خط درست ہے۔",
    },
    "letter.expired": {
        "en": "This letter has expired.",
        "fa-AF": "مدت اعتبار این نامه تمام شده است.",
        "ps-AF": "د دې لیک موده پای ته رسېدلې ده.",
        "ur": "اس خط کی میعاد ختم ہو چکی ہے۔",
    },
    "letter.revoked": {
        "en": "This letter was revoked by the issuing mission.",
        "fa-AF": "این نامه از سوی نمایندگی صادرکننده لغو شده است.",
        "ps-AF": "دا لیک د صادروونکې نمایندګۍ له خوا لغوه شوی دی.",
        "ur": "یہ خط جاری کرنے والے مشن نے منسوخ کر دیا ہے۔",
    },
    "letter.invalid": {
        "en": "This is not a genuine letter: its signature does not verify.",
        "fa-AF": "این نامه اصلی نیست: امضای آن تأیید نمی‌شود.",
        "ps-AF": "دا اصلي لیک نه دی: لاسلیک یې نه تاییدېږي.",
        "ur": "یہ اصلی خط نہیں ہے: اس کے دستخط کی تصدیق نہیں ہوتی۔",
    },
    "letter.unknown-key": {
        "en": "This letter was signed with a key the verifier does not know.",
        "fa-AF": "این نامه با کلیدی امضا شده که شناخته شده نیست.",
        "ps-AF": "دا لیک په داسې کیلي لاسلیک شوی چې نه پېژندل کېږي.",
        "ur": "یہ خط ایسی کلید سے دستخط شدہ ہے جو معلوم نہیں۔",
    },
    "letter.not-yet-valid": {
        "en": "This letter is dated in the future; check the device clock.",
        "fa-AF": "تاریخ این نامه در آینده است؛ ساعت دستگاه را بررسی کنید.",
        "ps-AF": "د دې لیک نېټه په راتلونکي کې ده؛ د وسیلې ساعت وګورئ.",
        "ur": "اس خط کی تاریخ مستقبل کی ہے؛ آلے کی گھڑی دیکھیں۔",
    },
    "verification.in_pipeline": {
        "en": "This person is in the US resettlement or immigration process.",
        "fa-AF": "این شخص در روند اسکان مجدد یا مهاجرت به ایالات متحده قرار دارد.",
        "ps-AF": "دا کس امریکا ته د مېشتېدو یا مهاجرت په بهیر کې دی.",
        "ur": "یہ شخص امریکہ میں آبادکاری یا امیگریشن کے عمل میں ہے۔",
    },
    "verification.not_in_pipeline": {
        "en": "No record of this person was found in the lists you may check.",
        "fa-AF": "در فهرست‌هایی که شما اجازه بررسی دارید، سابقه‌ای از این شخص پیدا نشد.",
        "ps-AF": "په هغو لستونو کې چې تاسو یې د کتلو اجازه لرئ، د دې کس ریکارډ ونه موندل شو.",
        "ur": "جن فہرستوں کی آپ جانچ کر سکتے ہیں ان میں اس شخص کا ریکارڈ نہیں ملا۔",
    },
    "verification.ambiguous": {
        "en": "Several people match; verify by letter or document number instead.",
        "fa-AF": "چند نفر مطابقت دارند؛ با نامه یا شماره سند تأیید کنید.",
        "ps-AF": "څو کسان سره سمون لري؛ د لیک یا سند د شمېرې له لارې یې تایید کړئ.",
        "ur": "کئی افراد مماثل ہیں؛ خط یا دستاویز نمبر سے تصدیق کریں۔",
    },
    "encounter.detained": {
        "en": "Detained",
        "fa-AF": "بازداشت شده",
        "ps-AF": "نیول شوی",
        "ur": "زیرِ حراست",
    },
    "encounter.listed_for_deportation": {
        "en": "Listed for deportation",
        "fa-AF": "در فهرست اخراج",
        "ps-AF": "د اېستلو په لست کې",
        "ur": "ملک بدری کی فہرست میں",
    },
    "encounter.released": {
        "en": "Released",
        "fa-AF": "رها شده",
        "ps-AF": "خوشې شوی",
        "ur": "رہا",
    },
    "encounter.deported": {
        "en": "Deported",
        "fa-AF": "اخراج شده",
        "ps-AF": "اېستل شوی",
        "ur": "ملک بدر",
    },
    "encounter.exit_permit_issued": {
        "en": "Exit permit issued",
        "fa-AF": "اجازه خروج صادر شده",
        "ps-AF": "د وتلو اجازه ورکړل شوې",
        "ur": "اخراج کا اجازت نامہ جاری",
    },
    "status.documented": {
        "en": "Holds a valid card or visa",
        "fa-AF": "دارای کارت یا ویزای معتبر",
        "ps-AF": "معتبر کارت یا ویزه لري",
        "ur": "درست کارڈ یا ویزا کا حامل",
    },
    "status.document_expired": {
        "en": "Card or visa expired",
        "fa-AF": "مدت کارت یا ویزا تمام شده",
        "ps-AF": "د کارت یا ویزې موده پای ته رسېدلې",
        "ur": "کارڈ یا ویزا کی میعاد ختم",
    },
    "status.verified": {
        "en": "Verified by the authorities",
        "fa-AF": "توسط مقامات تأیید شده",
        "ps-AF": "د چارواکو له خوا تایید شوی",
        "ur": "حکام سے تصدیق شدہ",
    },
    "status.registered": {
        "en": "Registered with UNHCR",
        "fa-AF": "نزد UNHCR ثبت شده",
        "ps-AF": "له UNHCR سره ثبت شوی",
        "ur": "UNHCR کے ساتھ رجسٹرڈ",
    },
    "status.registration_expired": {
        "en": "UNHCR registration expired",
        "fa-AF": "مدت ثبت نزد UNHCR تمام شده",
        "ps-AF": "له UNHCR سره د ثبت موده پای ته رسېدلې",
        "ur": "UNHCR رجسٹریشن کی میعاد ختم",
    },
    "status.departed_third_country": {
        "en": "Departed to a third country",
        "fa-AF": "به کشور سوم رفته",
        "ps-AF": "درېیم هېواد ته تللی",
        "ur": "تیسرے ملک روانہ",
    },
}


def text(key: str, language: str) -> str:
    """The message in `language`, or in English when the catalogue lacks it."""
    messages = _MESSAGES[key]
    return messages.get(language) or messages[DEFAULT_LANGUAGE]


def keys() -> tuple[str, ...]:
    return tuple(_MESSAGES)
