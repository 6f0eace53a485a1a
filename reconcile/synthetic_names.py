"""Name pools of the synthetic population: Afghan given, father's and tribal/family names with
their usual Latin spellings and their Dari/Pashto spelling in Arabic script. No real person."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PoolName:
    """One name: its most common Latin spelling, other attested spellings, and Arabic script."""

    latin: str
    arabic: str
    variants: tuple[str, ...]


def _pool(table: str) -> tuple[PoolName, ...]:
    names = []
    for line in table.strip().splitlines():
        latin, arabic, *rest = (part.strip() for part in line.split("|"))
        variants = tuple(v.strip() for v in rest[0].split(",") if v.strip()) if rest else ()
        names.append(PoolName(latin, arabic, variants))
    return tuple(names)


# Ordered roughly by frequency: the generator draws with Zipf-like weights by position.
MALE = _pool("""
Mohammad | محمد | Muhammad, Mohammed, Mohd, Md, Mohamad
Ahmad | احمد | Ahmed
Abdullah | عبدالله | Abdulla, Abdollah
Gul | گل | Gol
Noor | نور | Nur
Sayed | سید | Sayyid, Syed, Said
Abdul Rahman | عبدالرحمن | Abdulrahman, Abdur Rahman, Abdul Rehman
Habibullah | حبیب الله | Habib Ullah, Habibulla
Mahmood | محمود | Mahmud
Ali | علی
Khan | خان
Abdul Ghafoor | عبدالغفور | Abdul Ghafur, Abdulghafoor
Rahmatullah | رحمت الله | Rahmatulla, Rahmat Ullah
Hamidullah | حمیدالله | Hamid Ullah
Yousuf | یوسف | Yusuf, Yousef
Sher | شیر | Shir
Wali | ولی
Abdul Wahid | عبدالواحد | Abdulwahid, Abdul Waheed
Abdul Qadir | عبدالقادر | Abdul Qader, Abdulqadir
Naqibullah | نقیب الله | Naqeebullah
Zabihullah | ذبیح الله | Zabiullah
Samiullah | سمیع الله | Sami Ullah
Hussain | حسین | Husain, Hussein
Hassan | حسن | Hasan
Khalid | خالد | Khaled
Karim | کریم | Kareem
Rahim | رحیم | Raheem
Nasir | ناصر | Naser, Nasser
Shafiq | شفیق | Shafeeq, Shafik
Tariq | طارق | Tareq, Tarik
Jawad | جواد
Javed | جاوید | Jawed, Javid
Bilal | بلال
Farid | فرید | Fareed
Farhad | فرهاد
Kamal | کمال
Mirwais | میرویس
Omid | امید | Umid
Qasim | قاسم | Kasim, Qasem
Rashid | رشید | Rasheed
Zalmai | زلمی | Zalmay
Zia | ضیا
Ajmal | اجمل
Baryalai | بریالی | Baryalay
Daud | داود | Dawood, Dawud
Fawad | فواد
Hekmat | حکمت | Hikmat
Idrees | ادریس | Idris
Jamshid | جمشید | Jamshed
Massoud | مسعود | Masood, Masud
Najib | نجیب | Najeeb
Obaid | عبید | Ubaid
Ismail | اسماعیل | Esmail
Ibrahim | ابراهیم | Ebrahim
Ishaq | اسحاق | Eshaq
Yaqub | یعقوب | Yaqoob, Yakub
Musa | موسی | Moosa
Haroon | هارون | Harun
Younus | یونس | Yunus
Umar | عمر | Omar
Usman | عثمان | Osman
Hamza | حمزه | Hamzah
Bashir | بشیر | Basheer
Nazir | نذیر | Nazeer
Nazar | نظر
Zahir | ظاهر | Zaheer
Qadir | قادر | Qader
Aziz | عزیز | Azeez
Jamil | جمیل | Jameel
Jalil | جلیل | Jaleel
Khalil | خلیل | Khaleel
Latif | لطیف | Lateef
Majid | مجید | Majeed
Sadiq | صادق | Sadeq
Saleem | سلیم | Salim
Shakir | شاکر | Shaker
Sharif | شریف | Shareef
Tahir | طاهر | Taher
Wahid | وحید | Waheed
Yasin | یاسین | Yaseen
Zaman | زمان
Anwar | انور
Akbar | اکبر
Asghar | اصغر
Amir | امیر | Ameer
Arif | عارف | Aref
Aslam | اسلم
Azam | اعظم
Babar | بابر
Dost | دوست
Faiz | فیض
Ghulam | غلام | Gulam, Golam
Habib | حبیب | Habeeb
Hakim | حکیم | Hakeem
Hamid | حمید | Hameed
Jan | جان
Mir | میر
Mujib | مجیب | Mujeeb
Murad | مراد
Nabi | نبی
Naeem | نعیم | Naim
Nawab | نواب
Nazim | ناظم
Rafiq | رفیق | Rafeeq
Raza | رضا | Reza
Sabir | صابر | Saber
Shah | شاه
Shams | شمس
Siddiq | صدیق | Siddique
Sultan | سلطان
Taj | تاج
Wasim | وسیم | Waseem
Yar | یار
Zakir | ذاکر | Zaker
Zubair | زبیر
Hedayat | هدایت | Hidayat
Mansoor | منصور | Mansur
Shamsuddin | شمس الدین | Shamsudin, Shams ud Din
Nizamuddin | نظام الدین | Nizamudin
Sirajuddin | سراج الدین | Sirajudin
Ziaulhaq | ضیاءالحق | Zia ul Haq
Fazal | فضل | Fazl
Mustafa | مصطفی
Sohail | سهیل | Suhail
Zarif | ظریف | Zareef
Wazir | وزیر | Wazeer
Abid | عابد
Adil | عادل
Asif | آصف | Asef
Atiq | عتیق | Ateeq
Bahram | بهرام
Emal | ایمل | Aimal
Ghani | غنی
Hashmat | حشمت
Jalal | جلال
Kabir | کبیر | Kabeer
Mateen | متین | Matin
Nadir | نادر | Nader
Parwiz | پرویز | Parviz, Parvez
Rohullah | روح الله | Ruhullah
Safiullah | صفی الله
Shirzad | شیرزاد | Sherzad
Sohrab | سهراب
Tamim | تمیم | Tameem
Wahab | وهاب | Wahhab
Zaki | ذکی
Asadullah | اسدالله | Asad Ullah
Aminullah | امین الله | Ameenullah
Hayatullah | حیات الله
Inayatullah | عنایت الله
Kalimullah | کلیم الله | Kaleemullah
Lutfullah | لطف الله
Najibullah | نجیب الله | Najeebullah
Rafiullah | رفیع الله
Saifullah | سیف الله | Saif Ullah
Wahidullah | وحیدالله
Ezatullah | عزت الله | Izatullah, Ezzatullah
Qudratullah | قدرت الله
Abdul Karim | عبدالکریم | Abdul Kareem, Abdulkarim
Abdul Hamid | عبدالحمید | Abdul Hameed
Abdul Latif | عبداللطیف | Abdul Lateef
Abdul Basir | عبدالبصیر | Abdul Baseer
Abdul Samad | عبدالصمد
Abdul Hakim | عبدالحکیم | Abdul Hakeem
Abdul Malik | عبدالملک
Abdul Aziz | عبدالعزیز | Abdul Azeez
Abdul Salam | عبدالسلام | Abdul Salaam
Abdul Sattar | عبدالستار
Abdul Jabbar | عبدالجبار
Abdul Hadi | عبدالهادی
Abdul Bari | عبدالباری
Abdul Majid | عبدالمجید | Abdul Majeed
Abdul Razaq | عبدالرزاق | Abdul Razzaq
Abdul Ahad | عبدالاحد
Abdul Baqi | عبدالباقی
Abdul Ghani | عبدالغنی
Abdul Haq | عبدالحق
Abdul Jalil | عبدالجلیل | Abdul Jaleel
Abdul Khaliq | عبدالخالق
Abdul Manan | عبدالمنان
Abdul Qayum | عبدالقیوم | Abdul Qayyum
Abdul Rashid | عبدالرشید | Abdul Rasheed
Abdul Saboor | عبدالصبور | Abdul Sabur
Abdul Shakoor | عبدالشکور | Abdul Shakur
Abdul Wakil | عبدالوکیل | Abdul Wakeel
Abdul Zahir | عبدالظاهر
Agha | آغا
Akram | اکرم
Amanullah | امان الله | Aman Ullah
Atiqullah | عتیق الله
Azizullah | عزیزالله | Aziz Ullah
Baseer | بصیر | Basir
Bismillah | بسم الله
Ehsan | احسان | Ihsan
Ehsanullah | احسان الله
Enayat | عنایت | Inayat
Farooq | فاروق | Faruq
Fazlullah | فضل الله
Ghafoor | غفور | Ghafur
Hafiz | حافظ | Hafeez
Hamdullah | حمدالله
Hanif | حنیف | Haneef
Hashim | هاشم | Hashem
Ikram | اکرام
Ilyas | الیاس
Imran | عمران
Iqbal | اقبال
Jalaluddin | جلال الدین
Jamaluddin | جمال الدین
Kamaluddin | کمال الدین
Karimullah | کریم الله
Khairullah | خیرالله
Mahboob | محبوب | Mahbub
Manan | منان
Matiullah | مطیع الله
Mohibullah | محب الله
Mohsin | محسن
Mujahid | مجاهد
Mukhtar | مختار
Munir | منیر | Muneer
Mushtaq | مشتاق
Nadeem | ندیم | Nadim
Nasrullah | نصرالله
Nawid | نوید | Naveed
Nematullah | نعمت الله
Nizam | نظام
Noorullah | نورالله | Nurullah
Obaidullah | عبیدالله | Ubaidullah
Qayum | قیوم
Qudrat | قدرت
Rahmat | رحمت
Ramin | رامین
Rasool | رسول | Rasul
Rustam | رستم
Sadiqullah | صدیق الله
Saeed | سعید
Sajjad | سجاد
Salahuddin | صلاح الدین
Samim | صمیم | Sameem
Sanaullah | ثناءالله
Sardar | سردار
Shahid | شاهد
Shakib | شکیب | Shakeeb
Shamim | شمیم | Shameem
Shaukat | شوکت
Sharifullah | شریف الله
Shoaib | شعیب
Subhanullah | سبحان الله
Sulaiman | سلیمان | Suleman
Toryalai | توریالی
Waliullah | ولی الله
Yahya | یحیی
Zahid | زاهد
Zakaria | زکریا | Zakariya
Zamir | ضمیر | Zameer
Zarin | زرین
Ziauddin | ضیاءالدین
Zulfiqar | ذوالفقار
Abbas | عباس
Ajab | عجب
Alam | عالم
Arsalan | ارسلان
Ashraf | اشرف
Attaullah | عطاالله
Bakht | بخت
Bakhtiar | بختیار
Dawlat | دولت | Daulat
Fahim | فهیم | Faheem
Faisal | فیصل
Feroz | فیروز | Firoz
Ghaus | غوث
Haidar | حیدر | Hayder
Halim | حلیم | Haleem
Hazrat | حضرت
Hikmatullah | حکمت الله
Homayoun | همایون | Humayun
Jafar | جعفر
Jahangir | جهانگیر
Janan | جانان
Kamran | کامران
Latifullah | لطیف الله
Malang | ملنگ
Mehrab | محراب
Mirza | میرزا
Mubarak | مبارک
Munawar | منور
Naqib | نقیب | Naqeeb
Nazif | نظیف
Niaz | نیاز
Nisar | نثار
Pacha | پاچا
Qais | قیس
Rafi | رفیع | Rafee
Roshan | روشن
Sadruddin | صدرالدین
Safar | صفر
Sahib | صاحب
Saifuddin | سیف الدین
Saleh | صالح
Sarwar | سرور
Shahab | شهاب
Shahzad | شهزاد
Sharaf | شرف
Tawab | تواب
Wafa | وفا
Wahdat | وحدت
Wakil | وکیل | Wakeel
""")

# Words that often precede another name to form a compound given name (Mohammad Nabi, Gul Ahmad).
COMPOUND_PREFIXES = _pool("""
Mohammad | محمد | Muhammad, Mohammed
Gul | گل
Noor | نور | Nur
Sayed | سید | Syed
Mir | میر
Shah | شاه
Ahmad | احمد | Ahmed
Ali | علی
""")

FEMALE = _pool("""
Fatima | فاطمه | Fatema, Fatemeh, Fatimah
Zahra | زهرا | Zohra
Maryam | مریم | Mariam
Freshta | فرشته | Fereshta, Fereshteh
Zarghuna | زرغونه | Zarghona
Parwana | پروانه | Parvana
Shabnam | شبنم
Shukria | شکریه | Shukriya
Shakila | شکیلا | Shakeela
Nargis | نرگس | Narges
Nasrin | نسرین | Nasreen
Nilofar | نیلوفر | Nilufar
Nazia | نازیه
Roya | رویا
Sahar | سحر
Soraya | ثریا | Suraya
Laila | لیلا | Layla, Leila
Malalai | ملالی | Malalay
Mina | مینا | Meena
Marzia | مرضیه | Marziya
Hadia | هدیه | Hadiya
Habiba | حبیبه | Habeeba
Hasina | حسینه | Haseena
Gulalai | گلالی | Gulalay
Khadija | خدیجه | Khadijah
Ayesha | عایشه | Aisha
Farzana | فرزانه
Homa | هما | Huma
Latifa | لطیفه | Lateefa
Mahbooba | محبوبه | Mahbuba
Palwasha | پلوشه
Rabia | رابعه | Rabiya
Sadia | سعدیه | Sadiya
Sima | سیما | Seema
Tahmina | تهمینه | Tahmeena
Wahida | وحیده | Waheeda
Zainab | زینب | Zaynab
Zeba | زیبا | Ziba
Amina | آمنه | Amena
Fariba | فریبا
Farida | فریده | Fareeda
Hamida | حمیده | Hameeda
Jamila | جمیله | Jameela
Karima | کریمه
Lina | لینا
Mahnaz | مهناز
Masooda | مسعوده | Masuda
Muska | مسکا
Nadia | نادیه | Nadiya
Najiba | نجیبه | Najeeba
Nasima | نسیمه | Naseema
Parisa | پریسا
Rahima | رحیمه | Raheema
Rukhsana | رخسانه
Sabira | صابره
Samira | سمیره | Sameera
Shirin | شیرین | Sheerin
Sultana | سلطانه
Yalda | یلدا
Zarmina | زرمینه | Zarmeena
Zakia | زکیه | Zakiya
Zulaikha | زلیخا | Zulekha
Frozan | فروزان
Gulnaz | گلناز
Khatera | خاطره | Khatira
Nazanin | نازنین
Setara | ستاره | Sitara
Adila | عادله
Afsana | افسانه
Anisa | انیسه | Aneesa
Arezo | آرزو | Arzu
Aziza | عزیزه | Azeeza
Bahara | بهاره
Basira | بصیره | Baseera
Breshna | بریښنا
Darya | دریا
Durkhanai | درخانی
Farah | فرح
Fatana | فتانه
Fawzia | فوزیه | Fauzia
Fazila | فضیله
Feroza | فیروزه
Ghazal | غزل
Kulsum | کلثوم | Kulsoom
Hafiza | حفیظه | Hafeeza
Halima | حلیمه | Haleema
Hanifa | حنیفه
Hawa | حوا
Humaira | حمیرا
Kamila | کامله
Khalida | خالده
Lailuma | لیلما
Lida | لیدا
Lima | لیما
Madina | مدینه | Madeena
Mahrukh | ماهرخ
Malika | ملیکه | Maleeka
Marwa | مروه
Masuma | معصومه | Masooma
Munira | منیره | Muneera
Nabila | نبیله | Nabeela
Nafisa | نفیسه | Nafeesa
Nahid | ناهید | Naheed
Najia | ناجیه
Nasiba | نصیبه
Naz | ناز
Nazo | نازو
Negina | نگینه | Nagina
Nooria | نوریه | Nuria
Pari | پری
Parwin | پروین | Parveen
Pashtana | پښتنه
Qamar | قمر
Rahila | راحله
Rana | رعنا
Razia | راضیه | Raziya
Rehana | ریحانه | Rihana
Rozina | روزینه
Safia | صفیه | Safiya
Saida | سعیده | Saeeda
Sakina | سکینه | Sakeena
Saleha | صالحه
Salma | سلما
Samia | سمیه
Sanam | صنم
Shafiqa | شفیقه | Shafeeqa
Shahla | شهلا
Shahnaz | شهناز
Shaima | شیما
Shakiba | شکیبا
Shazia | شازیه
Shegofa | شگوفه
Simin | سیمین
Sohaila | سهیلا | Suhaila
Tamana | تمنا | Tamanna
Tayeba | طیبه | Taiba
Torpekai | تورپیکی
Wazhma | وژمه
Yasamin | یاسمین | Yasmin
Zakira | ذاکره
Zarifa | ظریفه
Zarina | زرینه | Zareena
Zhila | ژیلا
Zarlasht | زرلښت
Fahima | فهیمه | Faheema
Gulnar | گلنار
Hadisa | حدیثه
Hasiba | حسیبه
Kobra | کبری | Kubra
Mumtaz | ممتاز
Nazifa | نظیفه
Nilab | نیلاب
Qudsia | قدسیه
Roqia | رقیه | Ruqia
Soghra | صغری | Sughra
Zahida | زاهده
Zubaida | زبیده | Zubeida
""")

FAMILY = _pool("""
Ahmadzai | احمدزی | Ahmadzay
Stanikzai | ستانکزی | Stanekzai
Popalzai | پوپلزی | Popalzay
Barakzai | بارکزی | Barakzay
Durrani | درانی | Durani
Hotak | هوتک
Ghilzai | غلزی | Ghilzay
Safi | صافی
Mohmand | مهمند | Momand
Wardak | وردک
Sadat | سادات | Sadaat
Hashimi | هاشمی | Hashemi
Rahimi | رحیمی | Raheemi
Karimi | کریمی
Amiri | امیری
Nazari | نظری
Noori | نوری | Nuri
Haidari | حیدری | Haideri
Hussaini | حسینی | Husaini
Mohammadi | محمدی | Muhammadi
Niazi | نیازی
Yousufzai | یوسفزی | Yusufzai
Kakar | کاکړ
Achakzai | اچکزی
Alokozai | الکوزی
Shinwari | شینواری | Shinwary
Afridi | آفریدی
Jalali | جلالی
Qaderi | قادری | Qadiri
Sultani | سلطانی
Rasuli | رسولی | Rasooli
Azizi | عزیزی
Habibi | حبیبی
Samadi | صمدی
Hakimi | حکیمی
Naseri | ناصری | Nasiri
Akbari | اکبری
Zadran | زدران
Mangal | منگل
Khogyani | خوگیانی | Khugyani
Sahak | ساهک
Taraki | ترکی
Kharoti | خروتی
Mujadidi | مجددی | Mujaddidi
Gilani | گیلانی | Gailani
Faizi | فیضی
Ansari | انصاری
Omari | عمری | Umari
Osmani | عثمانی | Usmani
Haqqani | حقانی | Haqani
Noorzai | نورزی | Nurzai
Ishaqzai | اسحاقزی
Alizai | علیزی
Ahmadi | احمدی
Hamidi | حمیدی
Rashidi | رشیدی
Sharifi | شریفی
Kuchi | کوچی
Tajik | تاجیک
Hazara | هزاره
Uzbek | ازبک
Nuristani | نورستانی
Panjshiri | پنجشیری
Logari | لوگری
Kandahari | کندهاری
Kabuli | کابلی
Herawi | هروی
Badakhshi | بدخشی
Paktiawal | پکتیاوال
Sabari | صبری
Jaji | جاجی
Khostai | خوستی
Orakzai | اورکزی
Bangash | بنگش
Khattak | خټک
Marwat | مروت
Gandapur | گنداپور
Bettani | بیټنی
Ludin | لودین
Lodhi | لودی
Suri | سوری
Baloch | بلوچ | Balooch
Rind | رند
Zehri | زهری
Mengal | مینگل
Qureshi | قریشی
Siddiqi | صدیقی
Farooqi | فاروقی
Alavi | علوی
Naqvi | نقوی
Rizvi | رضوی
Jafari | جعفری
Hamdard | همدرد
Tokhi | توخی
Hotaki | هوتکی
Ibrahimkhel | ابراهیم خیل | Ibrahimkhil
Sultanzai | سلطانزی
Mirzakhel | میرزاخیل | Mirzakhil
Daulatzai | دولتزی
Azimi | عظیمی
Kazimi | کاظمی
Musawi | موسوی
Rahmani | رحمانی
Wahidi | وحیدی
Yaqubi | یعقوبی
Zamani | زمانی
Nawabi | نوابی
Ghaznawi | غزنوی
Sarwari | سروری
Habibzai | حبیبزی
Popal | پوپل
Haqmal | حقمل
""")

# Pakistani districts where Afghans live, by province.
DISTRICTS: dict[str, tuple[str, ...]] = {
    "Islamabad": ("Islamabad",),
    "Punjab": ("Rawalpindi", "Lahore", "Attock", "Mianwali"),
    "Khyber Pakhtunkhwa": ("Peshawar", "Nowshera", "Haripur", "Mardan", "Kohat", "Swabi"),
    "Sindh": ("Karachi", "Hyderabad"),
    "Balochistan": ("Quetta", "Pishin", "Chagai", "Loralai"),
}
