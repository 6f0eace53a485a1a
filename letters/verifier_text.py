"""Labels of the offline verifier page in English, Dari, Pashto and Urdu. Status lines come
from the shared catalogue (i18n); these are the page's own words. To be reviewed by native
speakers before use (docs/letters.md)."""
# ruff: noqa: RUF001 - Urdu and Dari text legitimately contains Arabic-script punctuation

from __future__ import annotations

from i18n import LANGUAGES, text

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Verify a protection letter",
        "hint": "Scan the QR code on the letter, or paste its content here.",
        "verify": "Verify",
        "scan": "Scan QR code",
        "name": "Name",
        "nameNative": "Name (Dari / Pashto)",
        "father": "Father's name",
        "birthYear": "Birth year",
        "members": "Family members covered",
        "expires": "Valid until",
        "letterId": "Letter number",
        "issuer": "Issued by",
        "offline": "Works offline: signatures are checked with keys bundled on {date}. "
        "Revocations after that date are not known to this page.",
        "meaning": "A valid letter shows that the person is in US resettlement or immigration "
        "processing. It is not a visa, passport or residence permit.",
        "compare": "Compare the name and birth year with the person's documents.",
        "noCrypto": "This browser cannot check signatures here (open the page over https).",
    },
    "fa-AF": {
        "title": "تأیید نامه حمایتی",
        "hint": "کد QR روی نامه را اسکن کنید یا محتوای آن را اینجا بچسبانید.",
        "verify": "تأیید",
        "scan": "اسکن کد QR",
        "name": "نام",
        "nameNative": "نام (دری / پشتو)",
        "father": "نام پدر",
        "birthYear": "سال تولد",
        "members": "اعضای خانواده",
        "expires": "معتبر تا",
        "letterId": "شماره نامه",
        "issuer": "صادر شده توسط",
        "offline": "بدون انترنت کار می‌کند: امضا با کلیدهای ذخیره‌شده در {date} بررسی می‌شود. "
        "لغوهای پس از این تاریخ در این صفحه معلوم نیستند.",
        "meaning": "نامه معتبر نشان می‌دهد که این شخص در روند اسکان مجدد یا مهاجرت به ایالات "
        "متحده است. این نامه ویزه، پاسپورت یا اجازه اقامت نیست.",
        "compare": "نام و سال تولد را با اسناد این شخص مقایسه کنید.",
        "noCrypto": "این مرورگر اینجا امضا را بررسی کرده نمی‌تواند (صفحه را با https باز کنید).",
    },
    "ps-AF": {
        "title": "د ملاتړ لیک تایید",
        "hint": "په لیک باندې QR کوډ سکن کړئ، یا یې منځپانګه دلته ولګوئ.",
        "verify": "تایید",
        "scan": "QR کوډ سکن کړئ",
        "name": "نوم",
        "nameNative": "نوم (دري / پښتو)",
        "father": "د پلار نوم",
        "birthYear": "د زېږېدو کال",
        "members": "د کورنۍ غړي",
        "expires": "تر دې نېټې معتبر",
        "letterId": "د لیک شمېره",
        "issuer": "صادروونکی",
        "offline": "له انټرنټ پرته کار کوي: لاسلیک د {date} نېټې له کیليو سره ګوري. "
        "له دې نېټې وروسته لغوې دې پاڼې ته نه دي معلومې.",
        "meaning": "معتبر لیک ښيي چې دا کس امریکا ته د مېشتېدو یا مهاجرت په بهیر کې دی. "
        "دا ویزه، پاسپورټ یا د اوسېدو اجازه نه ده.",
        "compare": "نوم او د زېږېدو کال د دې کس له اسنادو سره پرتله کړئ.",
        "noCrypto": "دا براوزر دلته لاسلیک نه شي کتلی (پاڼه په https پرانیزئ).",
    },
    "ur": {
        "title": "تحفظ کے خط کی تصدیق",
        "hint": "خط پر موجود QR کوڈ اسکین کریں یا اس کا متن یہاں چسپاں کریں۔",
        "verify": "تصدیق کریں",
        "scan": "QR کوڈ اسکین کریں",
        "name": "نام",
        "nameNative": "نام (دری / پشتو)",
        "father": "والد کا نام",
        "birthYear": "سالِ پیدائش",
        "members": "شامل اہلِ خانہ",
        "expires": "درست تا",
        "letterId": "خط نمبر",
        "issuer": "جاری کنندہ",
        "offline": "انٹرنیٹ کے بغیر کام کرتا ہے: دستخط {date} کو محفوظ کی گئی کلیدوں سے جانچے "
        "جاتے ہیں۔ اس تاریخ کے بعد کی منسوخیاں اس صفحے کو معلوم نہیں۔",
        "meaning": "درست خط ظاہر کرتا ہے کہ یہ شخص امریکہ میں آبادکاری یا امیگریشن کے عمل میں ہے۔ "
        "یہ ویزا، پاسپورٹ یا رہائشی اجازت نامہ نہیں ہے۔",
        "compare": "نام اور سالِ پیدائش کا اس شخص کی دستاویزات سے موازنہ کریں۔",
        "noCrypto": "یہ براؤزر یہاں دستخط نہیں جانچ سکتا (صفحہ https پر کھولیں)۔",
    },
}

_STATUSES = ("valid", "invalid", "expired", "revoked", "unknown-key", "not-yet-valid")


def page_text() -> dict[str, dict[str, str]]:
    """Every string the page shows, per language: its labels and the catalogue's statuses."""
    return {
        language: {
            **LABELS[language],
            **{f"status:{s}": text(f"letter.{s}", language) for s in _STATUSES},
        }
        for language in LANGUAGES
    }
