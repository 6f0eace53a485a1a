"""The words of the printed letter in English, Dari and Pashto: what it means, what it does not
mean, and how to check it. To be reviewed by native speakers before printing (docs/letters.md)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Wording:
    language: str
    rtl: bool
    heading: str
    means: str
    does_not_mean: str
    verify: str


WORDINGS = (
    Wording(
        "en",
        False,
        "Protection letter",
        "The person named in this letter is in processing for resettlement or immigration to "
        "the United States. The family members listed are part of the same case.",
        "This letter is not a visa, passport, travel document or residence permit. It does not "
        "give legal status in Pakistan and does not replace Pakistani documents.",
        "To check that it is genuine, scan the QR code with the verifier page. The code is "
        "digitally signed by the mission: a letter whose code does not verify, has expired or "
        "has been revoked is not valid. If the holder is detained, please inform the mission.",
    ),
    Wording(
        "fa-AF",
        True,
        "نامه حمایتی",
        "شخصی که نام او در این نامه آمده است، در روند اسکان مجدد یا مهاجرت به ایالات متحده "
        "امریکا قرار دارد. اعضای خانواده که نام‌شان ذکر شده، در همین پرونده شامل هستند.",
        "این نامه ویزه، پاسپورت، سند سفر یا اجازه اقامت نیست. این نامه در پاکستان وضعیت "
        "قانونی نمی‌دهد و جای اسناد پاکستانی را نمی‌گیرد.",
        "برای اطمینان از اصلی بودن این نامه، کد QR را با صفحه تأیید اسکن کنید. این کد از سوی "
        "نمایندگی امضای دیجیتال شده است؛ نامه‌ای که کد آن تأیید نشود، منقضی یا لغو شده باشد، "
        "معتبر نیست. در صورت بازداشت دارنده، لطفاً نمایندگی را آگاه سازید.",
    ),
    Wording(
        "ps-AF",
        True,
        "د ملاتړ لیک",
        "هغه کس چې نوم یې په دې لیک کې راغلی، امریکا ته د مېشتېدو یا مهاجرت په بهیر کې دی. "
        "د کورنۍ هغه غړي چې نومونه یې لیکل شوي، په همدې دوسیه کې شامل دي.",
        "دا لیک ویزه، پاسپورټ، د سفر سند یا د اوسېدو اجازه نه ده. دا لیک په پاکستان کې "
        "قانوني حیثیت نه ورکوي او د پاکستاني اسنادو ځای نه نیسي.",
        "د دې لپاره چې ډاډ ترلاسه کړئ دا لیک اصلي دی، QR کوډ د تایید په پاڼه سکن کړئ. دا کوډ "
        "د نمایندګۍ له خوا ډیجیټلي لاسلیک شوی؛ هغه لیک چې کوډ یې تایید نه شي، موده یې تېره "
        "شوې وي یا لغوه شوی وي، معتبر نه دی. که د لیک لرونکی ونیول شي، نمایندګۍ ته خبر ورکړئ.",
    ),
)

# Field labels in the three languages, side by side. A left-to-right mark after each
# separator keeps the order English · Dari · Pashto (else bidi merges the two RTL labels).
_LRM = "\u200e"
LABELS = {
    "name": "Name ·" + _LRM + " نام ·" + _LRM + " نوم",
    "name_native": "Name in Dari/Pashto ·" + _LRM + " نام ·" + _LRM + " نوم",
    "father": "Father's name ·" + _LRM + " نام پدر ·" + _LRM + " د پلار نوم",
    "birth_year": "Birth year ·" + _LRM + " سال تولد ·" + _LRM + " د زېږېدو کال",
    "members": "Family members covered ·" + _LRM + " اعضای خانواده ·" + _LRM + " د کورنۍ غړي",
    "letter": "Letter no. ·" + _LRM + " شماره نامه ·" + _LRM + " د لیک شمېره",
    "issued": "Issued ·" + _LRM + " تاریخ صدور ·" + _LRM + " د صادرېدو نېټه",
    "expires": "Valid until ·" + _LRM + " معتبر تا ·" + _LRM + " تر دې نېټې معتبر",
}
