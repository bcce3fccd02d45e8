"""Names, places and words the generator draws from: Russian, Hebrew, Armenian, English.

Each name comes with a Latin spelling, used for e-mail addresses and for the share of
people whose name was typed in Latin letters.
"""

# (first name, Latin) by language and gender.
FIRST = {
    ("ru", "male"): [
        ("Иван", "ivan"), ("Алексей", "aleksey"), ("Дмитрий", "dmitry"), ("Сергей", "sergey"),
        ("Андрей", "andrey"), ("Михаил", "mikhail"), ("Николай", "nikolay"), ("Павел", "pavel"),
        ("Владимир", "vladimir"), ("Александр", "aleksandr"), ("Артём", "artyom"),
        ("Максим", "maksim"), ("Евгений", "evgeny"), ("Олег", "oleg"), ("Роман", "roman"),
        ("Игорь", "igor"), ("Константин", "konstantin"), ("Григорий", "grigory"),
        ("Фёдор", "fyodor"), ("Юрий", "yury"), ("Виктор", "viktor"), ("Степан", "stepan"),
    ],
    ("ru", "female"): [
        ("Анна", "anna"), ("Мария", "maria"), ("Елена", "elena"), ("Ольга", "olga"),
        ("Наталья", "natalya"), ("Татьяна", "tatyana"), ("Екатерина", "ekaterina"),
        ("Ирина", "irina"), ("Светлана", "svetlana"), ("Юлия", "yulia"), ("Дарья", "darya"),
        ("Ксения", "ksenia"), ("Алина", "alina"), ("Виктория", "viktoria"), ("Полина", "polina"),
        ("Софья", "sofya"), ("Людмила", "lyudmila"), ("Галина", "galina"), ("Вера", "vera"),
        ("Надежда", "nadezhda"), ("Марина", "marina"), ("Анастасия", "anastasia"),
    ],
    ("he", "male"): [
        ("יוסי", "yossi"), ("דניאל", "daniel"), ("אבי", "avi"), ("משה", "moshe"),
        ("דוד", "david"), ("איתי", "itai"), ("עומר", "omer"), ("נועם", "noam"), ("אורי", "uri"),
        ("יונתן", "yonatan"), ("אריאל", "ariel"), ("עידו", "ido"), ("רון", "ron"),
        ("גיא", "guy"), ("אלון", "alon"), ("איתן", "eitan"), ("יעקב", "yaakov"),
    ],
    ("he", "female"): [
        ("נועה", "noa"), ("מיכל", "michal"), ("שירה", "shira"), ("תמר", "tamar"),
        ("יעל", "yael"), ("מאיה", "maya"), ("רותם", "rotem"), ("הדר", "hadar"),
        ("ליאת", "liat"), ("אורית", "orit"), ("שני", "shani"), ("רחל", "rachel"),
        ("אביגיל", "avigail"), ("טליה", "talia"), ("ענבל", "inbal"), ("אסתר", "ester"),
    ],
    ("hy", "male"): [
        ("Արամ", "aram"), ("Դավիթ", "davit"), ("Գոռ", "gor"), ("Տիգրան", "tigran"),
        ("Արմեն", "armen"), ("Հայկ", "hayk"), ("Նարեկ", "narek"), ("Վահե", "vahe"),
        ("Սամվել", "samvel"), ("Կարեն", "karen"), ("Արթուր", "artur"), ("Էդգար", "edgar"),
        ("Ռուբեն", "ruben"), ("Գևորգ", "gevorg"), ("Սուրեն", "suren"), ("Հրանտ", "hrant"),
    ],
    ("hy", "female"): [
        ("Անի", "ani"), ("Լիլիթ", "lilit"), ("Նարինե", "narine"), ("Մարիամ", "mariam"),
        ("Անահիտ", "anahit"), ("Գայանե", "gayane"), ("Սոնա", "sona"), ("Արմինե", "armine"),
        ("Լուսինե", "lusine"), ("Թամարա", "tamara"), ("Հասմիկ", "hasmik"), ("Նունե", "nune"),
        ("Աստղիկ", "astghik"), ("Մերի", "meri"), ("Զարուհի", "zaruhi"), ("Սիրանուշ", "siranush"),
    ],
    ("en", "male"): [
        ("James", "james"), ("John", "john"), ("Robert", "robert"), ("Michael", "michael"),
        ("William", "william"), ("David", "david"), ("Richard", "richard"), ("Joseph", "joseph"),
        ("Thomas", "thomas"), ("Charles", "charles"), ("Daniel", "daniel"),
        ("Matthew", "matthew"), ("George", "george"), ("Oliver", "oliver"), ("Harry", "harry"),
    ],
    ("en", "female"): [
        ("Mary", "mary"), ("Patricia", "patricia"), ("Jennifer", "jennifer"), ("Linda", "linda"),
        ("Elizabeth", "elizabeth"), ("Susan", "susan"), ("Jessica", "jessica"),
        ("Sarah", "sarah"), ("Karen", "karen"), ("Emily", "emily"), ("Olivia", "olivia"),
        ("Emma", "emma"), ("Sophie", "sophie"), ("Charlotte", "charlotte"), ("Amelia", "amelia"),
    ],
}  # fmt: skip

# Family names: Russian ones are given in the male form (the female form is derived).
LAST = {
    "ru": [
        ("Петров", "petrov"), ("Иванов", "ivanov"), ("Смирнов", "smirnov"),
        ("Кузнецов", "kuznetsov"), ("Соколов", "sokolov"), ("Попов", "popov"),
        ("Лебедев", "lebedev"), ("Козлов", "kozlov"), ("Новиков", "novikov"),
        ("Морозов", "morozov"), ("Волков", "volkov"), ("Соловьёв", "solovyov"),
        ("Васильев", "vasilyev"), ("Зайцев", "zaytsev"), ("Павлов", "pavlov"),
        ("Семёнов", "semyonov"), ("Голубев", "golubev"), ("Виноградов", "vinogradov"),
        ("Богданов", "bogdanov"), ("Воробьёв", "vorobyov"), ("Фёдоров", "fyodorov"),
        ("Михайлов", "mikhaylov"), ("Беляев", "belyaev"), ("Тарасов", "tarasov"),
        ("Белов", "belov"), ("Комаров", "komarov"), ("Орлов", "orlov"), ("Киселёв", "kiselyov"),
        ("Макаров", "makarov"), ("Андреев", "andreev"), ("Ковальский", "kovalsky"),
        ("Вишневский", "vishnevsky"), ("Жуков", "zhukov"), ("Никитин", "nikitin"),
        ("Захаров", "zakharov"), ("Крылов", "krylov"), ("Медведев", "medvedev"),
    ],
    "he": [
        ("כהן", "cohen"), ("לוי", "levi"), ("מזרחי", "mizrahi"), ("פרץ", "peretz"),
        ("ביטון", "biton"), ("אברהם", "avraham"), ("פרידמן", "friedman"), ("שפירא", "shapira"),
        ("דהן", "dahan"), ("אזולאי", "azulay"), ("גבאי", "gabay"), ("חדד", "hadad"),
        ("מלכה", "malka"), ("אוחיון", "ohayon"), ("קליין", "klein"), ("רוזנברג", "rosenberg"),
        ("גולדברג", "goldberg"), ("ברק", "barak"), ("שלום", "shalom"), ("יוסף", "yosef"),
        ("אלמוג", "almog"), ("בן דוד", "ben-david"), ("וייס", "weiss"), ("כץ", "katz"),
    ],
    "hy": [
        ("Սարգսյան", "sargsyan"), ("Հովհաննիսյան", "hovhannisyan"), ("Գրիգորյան", "grigoryan"),
        ("Պետրոսյան", "petrosyan"), ("Վարդանյան", "vardanyan"), ("Խաչատրյան", "khachatryan"),
        ("Հարությունյան", "harutyunyan"), ("Կարապետյան", "karapetyan"),
        ("Մկրտչյան", "mkrtchyan"), ("Ավետիսյան", "avetisyan"), ("Գևորգյան", "gevorgyan"),
        ("Մարտիրոսյան", "martirosyan"), ("Ղազարյան", "ghazaryan"), ("Աբրահամյան", "abrahamyan"),
        ("Մանուկյան", "manukyan"), ("Բաղդասարյան", "baghdasaryan"), ("Սիմոնյան", "simonyan"),
        ("Հակոբյան", "hakobyan"), ("Դավթյան", "davtyan"), ("Ստեփանյան", "stepanyan"),
    ],
    "en": [
        ("Smith", "smith"), ("Johnson", "johnson"), ("Williams", "williams"), ("Brown", "brown"),
        ("Jones", "jones"), ("Miller", "miller"), ("Davis", "davis"), ("Wilson", "wilson"),
        ("Taylor", "taylor"), ("Anderson", "anderson"), ("Thomas", "thomas"), ("Moore", "moore"),
        ("Martin", "martin"), ("Jackson", "jackson"), ("Thompson", "thompson"),
        ("White", "white"), ("Harris", "harris"), ("Clark", "clark"), ("Lewis", "lewis"),
        ("Walker", "walker"), ("O'Connor", "oconnor"), ("Hughes", "hughes"),
    ],
}  # fmt: skip

# Russian patronymics (male, female), from the fathers' names.
PATRONYMICS = [
    ("Иванович", "Ивановна"), ("Алексеевич", "Алексеевна"), ("Дмитриевич", "Дмитриевна"),
    ("Сергеевич", "Сергеевна"), ("Андреевич", "Андреевна"), ("Михайлович", "Михайловна"),
    ("Николаевич", "Николаевна"), ("Павлович", "Павловна"), ("Владимирович", "Владимировна"),
    ("Александрович", "Александровна"), ("Викторович", "Викторовна"), ("Юрьевич", "Юрьевна"),
    ("Олегович", "Олеговна"), ("Евгеньевич", "Евгеньевна"), ("Игоревич", "Игоревна"),
]  # fmt: skip

# How the client base splits by language: (language, weight).
LANGUAGES = [("ru", 50), ("he", 20), ("hy", 15), ("en", 15)]

# One city dominates, as it does for a business that sells mostly at home: the list
# benchmark filters by it, so page 10,000 exists at 1,000,000 people.
MAIN_CITY, MAIN_CITY_SHARE = "Moscow", 0.55
CITIES = {
    "ru": ["Saint Petersburg", "Kazan", "Novosibirsk", "Yekaterinburg", "Sochi", "Tver"],
    "he": ["Tel Aviv", "Haifa", "Jerusalem", "Netanya", "Ashdod", "Beersheba"],
    "hy": ["Yerevan", "Gyumri", "Vanadzor", "Krasnodar", "Rostov-on-Don"],
    "en": ["London", "Manchester", "New York", "San Francisco", "Boston", "Luxembourg"],
}
COUNTRY_OF_CITY = {
    "Moscow": "RU", "Saint Petersburg": "RU", "Kazan": "RU", "Novosibirsk": "RU",
    "Yekaterinburg": "RU", "Sochi": "RU", "Tver": "RU", "Krasnodar": "RU",
    "Rostov-on-Don": "RU", "Tel Aviv": "IL", "Haifa": "IL", "Jerusalem": "IL",
    "Netanya": "IL", "Ashdod": "IL", "Beersheba": "IL", "Yerevan": "AM", "Gyumri": "AM",
    "Vanadzor": "AM", "London": "GB", "Manchester": "GB", "New York": "US",
    "San Francisco": "US", "Boston": "US", "Luxembourg": "LU",
}  # fmt: skip

STREETS = {
    "ru": "ул. Ленина, д. {n}, кв. {m}",
    "he": "רחוב הרצל {n}, דירה {m}",
    "hy": "Աբովյան փ., {n}, բն. {m}",
    "en": "{n} High Street, flat {m}",
}

MAIL_DOMAINS = {
    "ru": ["mail.ru", "yandex.ru", "gmail.com", "bk.ru", "list.ru", "rambler.ru"],
    "he": ["gmail.com", "walla.co.il", "hotmail.com", "outlook.com", "012.net.il"],
    "hy": ["mail.ru", "gmail.com", "yandex.ru", "yahoo.com", "mail.am"],
    "en": ["gmail.com", "outlook.com", "yahoo.com", "icloud.com", "hotmail.co.uk"],
}

# Company names: a legal form around one or two words.
COMPANY_WORDS = {
    "ru": ["Окна", "Строй", "Техно", "Альфа", "Вектор", "Гранит", "Север", "Восток",
           "Меридиан", "Профиль", "Стекло", "Дом", "Маркет", "Сервис", "Инвест", "Уют",
           "Монолит", "Фасад", "Терем", "Регион"],
    "he": ["חלונות", "בנייה", "זכוכית", "מערכות", "שירותים", "פרויקטים", "הצפון", "הדרום",
           "אלומיניום", "בית", "גלבוע", "כרמל", "ים", "אור", "שחר", "נוף"],
    "hy": ["Արարատ", "Մասիս", "Սևան", "Հայ", "Շին", "Տեխ", "Նաիրի", "Արագած", "Վան",
           "Զվարթնոց", "Ախթամար", "Գառնի", "Դվին", "Լոռի"],
    "en": ["North", "Star", "Glass", "Systems", "Build", "Prime", "Blue", "River", "Union",
           "Crown", "Summit", "Oak", "Harbor", "Bright", "Pioneer", "Atlas"],
}  # fmt: skip
COMPANY_FORMS = {
    "ru": ["ООО «{}»", "АО «{}»", "{}", "ООО «{} Плюс»", "ГК «{}»"],
    "he": ['{} בע"מ', "{}", "קבוצת {}"],
    "hy": ["{} ՍՊԸ", "{}", "{} ՓԲԸ"],
    "en": ["{} Ltd", "{} LLC", "{} Inc.", "{} GmbH", "{} Windows", "{} Interiors"],
}
COMPANY_DOMAINS = {"ru": ".ru", "he": ".co.il", "hy": ".am", "en": ".com"}

TAGS = [
    "vip", "wholesale", "installation", "repeat", "newsletter", "dealer", "b2b",
    "постоянный клиент", "рассрочка", "לקוח חוזר", "מתקין", "Երևան", "համագործակից",
]  # fmt: skip
SOURCES = ["web site", "phone call", "referral", "exhibition", "Instagram", "walk-in",
           "Telegram", "WhatsApp", "Avito", "import"]  # fmt: skip
PHONE_LABELS = ["mobile", "mobile", "mobile", "work", "home", ""]
EMAIL_LABELS = ["", "", "personal", "work"]
NOTES = [
    "Called: wants a quote for three windows, white PVC.",
    "Замер сделан, передали сметчику.",
    "ביקש הצעת מחיר לחלונות אלומיניום.",
    "Հաճախորդը խնդրեց զանգահարել երեկոյան։",
    "Prefers WhatsApp over calls in the afternoon.",
    "Asked about a discount for a second order.",
]
