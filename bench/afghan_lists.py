"""Deterministic synthetic US pipeline lists in the exchange format: cases of Afghan families
with realistic names (and their Latin spelling variants), Solar Hijri and year-only birth
dates, documents, Pakistani places, programs, stages and letters. No real person's data."""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from pathlib import Path


def _names(text: str) -> tuple[str, ...]:
    """Whitespace-separated names; `_` joins the words of a compound name."""
    return tuple(name.replace("_", " ") for name in text.split())


MALE = _names(
    "Mohammad Muhammad Mohammed Ahmad Ahmed Mahmood Mahmoud Abdullah Abdul_Rahman Abdulrahman "
    "Abdur_Rahman Abdul_Rehman Abdul_Ghafoor Abdul_Wahid Abdul_Qadir Habibullah Habib_Ullah "
    "Hamidullah Rahmatullah Rahmatulla Naqibullah Zabihullah Samiullah Ezatullah Sayed Sayyid "
    "Syed Yousuf Yusuf Noor Nur Gul Gul_Mohammad Sher Sher_Ali Wali Wais Bilal Farid Farhad "
    "Jawad Javed Kamal Karim Khalid Mirwais Nasir Omid Qasim Rahim Rashid Shafiq Tariq Zalmai "
    "Zia Ajmal Asadullah Baryalai Daud Dawood Fawad Hekmat Idrees Jamshid Massoud Najib Obaid"
)
FEMALE = _names(
    "Fatima Fatema Zahra Zohra Maryam Mariam Freshta Fereshta Zarghuna Zarghona Parwana "
    "Shabnam Shukria Shakila Nargis Nasrin Nilofar Nazia Roya Sahar Soraya Laila Layla Malalai "
    "Mina Marzia Hadia Habiba Hasina Gulalai Gul_Bibi Bibi_Gul Khadija Ayesha Aisha Farzana "
    "Homa Latifa Mahbooba Palwasha Rabia Sadia Sima Tahmina Wahida Zainab Zeba Zuhal"
)
FAMILY = _names(
    "Ahmadzai Ahmadzay Stanikzai Popalzai Barakzai Durrani Hotak Ghilzai Safi Mohmand Wardak "
    "Sadat Sadaat Hashimi Hashemi Rahimi Karimi Amiri Nazari Noori Nuri Haidari Hussaini Mohammadi "
    "Niazi Yousufzai Yusufzai Kakar Achakzai Alokozai Shinwari Afridi Jalali Qaderi Sultani "
    "Rasuli Rasooli Azizi Habibi Samadi Hakimi Naseri Akbari"
)
NATIVE = {
    "Mohammad": "محمد", "Muhammad": "محمد", "Mohammed": "محمد", "Ahmad": "احمد", "Ahmed": "احمد",
    "Abdullah": "عبدالله", "Habibullah": "حبیب الله", "Gul": "گل", "Noor": "نور", "Nur": "نور",
    "Yousuf": "یوسف", "Yusuf": "یوسف", "Fatima": "فاطمه", "Zahra": "زهرا", "Maryam": "مریم",
    "Freshta": "فرشته", "Fereshta": "فرشته", "Zarghuna": "زرغونه", "Sayed": "سید", "Syed": "سید",
    "Ahmadzai": "احمدزی", "Stanikzai": "ستانکزی", "Popalzai": "پوپلزی", "Hotak": "هوتک",
}  # fmt: skip
PLACES = {
    "Islamabad": ["Islamabad"],
    "Punjab": ["Rawalpindi", "Lahore", "Attock", "Mianwali"],
    "Khyber Pakhtunkhwa": ["Peshawar", "Nowshera", "Haripur", "Mardan", "Kohat"],
    "Sindh": ["Karachi", "Hyderabad"],
    "Balochistan": ["Quetta", "Pishin", "Chagai"],
}
PROGRAMS = [("SIV", 45), ("P2", 33), ("P1", 6), ("IV", 5), ("HP", 5), ("FTJ", 3), ("USC", 2),
            ("ASY", 1)]  # fmt: skip
STAGES = {
    "SIV": ["chief-of-mission application", "approved", "nvc documents", "interview",
            "administrative processing", "visa issued"],
    "default": ["referred", "case created", "security checks", "uscis interview", "approved",
                "medical", "cultural orientation", "assured", "travel booked", "on hold"],
}  # fmt: skip
EMPLOYERS = ["US Army contractor", "USAID implementing partner", "US Embassy Kabul",
             "Media outlet", "NGO staff", "Interpreter (ISAF)"]  # fmt: skip
COLUMNS = [
    "record_id", "given_name", "family_name", "father_name", "name_native", "dob", "dob_calendar",
    "sex", "nationality", "documents", "group_id", "relationship", "province", "district", "phone",
    "program", "stage", "letter_id", "employer",
]  # fmt: skip


def _dob(rng: random.Random, first: int, last: int) -> tuple[str, str]:
    year = rng.randint(first, last)
    roll = rng.random()
    if roll < 0.20:  # a tazkira date, unconverted
        return f"{year - 621}-{rng.randint(1, 12):02d}-{rng.randint(1, 29):02d}", "solar_hijri"
    if roll < 0.35:
        return str(year), ""
    if roll < 0.45:
        return f"{year}-01-01", ""
    return f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}", ""


def _documents(rng: random.Random, adult: bool) -> str:
    docs = []
    if adult and rng.random() < 0.7:
        docs.append(f"passport:P{rng.randint(1_000_000, 9_999_999)}")
    if rng.random() < (0.6 if adult else 0.3):
        year, office, serial = rng.randint(0, 2), rng.randint(0, 9999), rng.randint(0, 99999)
        docs.append(f"tazkira:14{year:02d}-{office:04d}-{serial:05d}")
    if rng.random() < 0.3:
        docs.append(f"por:{rng.randint(10**9, 10**10 - 1)}")
    if rng.random() < 0.25:
        office, year, serial = rng.randint(100, 999), rng.randint(10, 99), rng.randint(0, 99999)
        docs.append(f"unhcr:{office}-{year}-{serial:05d}")
    if adult and rng.random() < 0.1:
        docs.append(f"acc:ACC-{rng.randint(0, 9999):04d}-{rng.randint(0, 9999):04d}")
    return ";".join(docs)


def _native(*parts: str) -> str:
    words = [NATIVE.get(part) for part in parts if part]
    return " ".join(w for w in words if w) if all(words) else ""


def pipeline_rows(count: int, seed: int = 2023) -> Iterator[list[str]]:
    """`count` exchange rows in cases of 1-8 people (PA, spouse, children, others)."""
    rng = random.Random(seed)
    programs, weights = zip(*PROGRAMS, strict=True)
    made = case = 0
    while made < count:
        case += 1
        program = rng.choices(programs, weights)[0]
        stage = rng.choice(STAGES.get(program, STAGES["default"]))
        family = rng.choice(FAMILY) if rng.random() < 0.7 else ""
        province = rng.choice(list(PLACES))
        district = rng.choice(PLACES[province])
        pa_father = rng.choice(MALE)
        pa_name = rng.choice(MALE) if rng.random() < 0.85 else rng.choice(FEMALE)
        roles = ["PA"] + (["SP"] if rng.random() < 0.8 else []) + ["CH"] * rng.randint(0, 5)
        roles += ["OT"] if rng.random() < 0.05 else []
        for role in roles:
            if made >= count:
                break
            made += 1
            adult = role != "CH"
            if role == "PA":
                given, father = pa_name, pa_father
                sex = "M" if pa_name in MALE else "F"
            else:
                sex = rng.choice("MF") if role != "SP" else ("F" if pa_name in MALE else "M")
                given = rng.choice(MALE if sex == "M" else FEMALE)
                father = pa_name if role == "CH" else rng.choice(MALE)
            dob, calendar = _dob(rng, 1958, 1998) if adult else _dob(rng, 2001, 2020)
            phone = f"+92 3{rng.randint(0, 49):02d} {rng.randint(10**6, 10**7 - 1)}"
            yield [
                f"US-{made:07d}", given, family, father,
                _native(given, family) if rng.random() < 0.3 else "", dob, calendar,
                sex if rng.random() > 0.01 else "U", "AFG" if rng.random() < 0.98 else "PAK",
                _documents(rng, adult), f"{program}-{case:06d}", role, province, district,
                phone if role == "PA" else "",
                program, stage, f"LTR-2023-{made:07d}" if rng.random() < 0.6 else "",
                rng.choice(EMPLOYERS) if role == "PA" and program in ("SIV", "P2") else "",
            ]  # fmt: skip


def write_pipeline_csv(path: Path, count: int, seed: int = 2023) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(pipeline_rows(count, seed))
    return path
