"""Phone numbers as people type them, with the E.164 form Accord's services store.

The E.164 form is built from the parts, and `check_sample` proves it equal to what
`accord.core.phones.normalize_phone` makes of the typed form (region RU, as the bench
sets ACCORD_PHONE_REGION=RU), so the rows match the services' rows exactly.
"""

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Plan:
    """One kind of number: country code, national prefixes, digits after them, formats."""

    code: str
    prefixes: tuple[str, ...]
    digits: int
    formats: tuple[str, ...]  # each # takes the next digit of the national number


PLANS = {
    "RU": Plan(
        "7",
        ("915", "916", "917", "903", "905", "926", "925", "985", "999", "977", "963", "901"),
        7,
        (
            "8 (###) ###-##-##",
            "+7 ### ###-##-##",
            "8##########",
            "+7(###)###-####",
            "##########",
            "+7 (###) ### ## ##",
        ),
    ),
    "RU-landline": Plan(
        "7",
        ("495", "499", "812", "843"),
        7,
        ("8 (###) ###-##-##", "+7 ### #######", "8-###-#######"),
    ),
    "IL": Plan(
        "972",
        # Three-digit prefixes: not every number of 054, 055 or 058 is given out.
        ("502", "503", "505", "522", "523", "526", "532", "533", "544", "545", "584", "585"),
        6,
        (
            "+972 ##-###-####",
            "00972#########",
            "+972-##-#######",
            "+972 (##) ### ####",
        ),
    ),
    "AM": Plan(
        "374",
        ("91", "93", "94", "95", "96", "98", "99", "77", "55"),
        6,
        (
            "+374 (##) ##-##-##",
            "+374 ## ######",
            "00374 ## ### ###",
        ),
    ),
    "GB": Plan(
        "44",
        ("7400", "7711", "7712", "7788", "7800", "7958"),
        6,
        ("+44 #### ######", "+44 (0) #### ######", "0044 ##########"),
    ),
    "US": Plan(
        "1",
        ("212", "415", "646", "718", "917", "617", "310"),
        7,
        (
            "+1 (###) ###-####",
            "+1-###-###-####",
            "001 ### ### ####",
            "+1 ###.###.####",
        ),
    ),
    "LU": Plan("352", ("621", "661", "691"), 6, ("+352 ### ### ###", "00352#########")),
}

# Which numbers each language group has: (plan, weight).
PLANS_BY_LANGUAGE = {
    "ru": [("RU", 90), ("RU-landline", 10)],
    "he": [("IL", 85), ("RU", 15)],
    "hy": [("AM", 60), ("RU", 40)],
    "en": [("GB", 40), ("US", 45), ("LU", 15)],
}


def national_number(rng: random.Random, plan: Plan) -> str:
    """A national number: prefix plus random digits (US exchanges never start with 0 or 1)."""
    tail = f"{rng.randrange(10**plan.digits):0{plan.digits}d}"
    if plan.code == "1":
        tail = str(rng.randrange(2, 10)) + tail[1:]
    return rng.choice(plan.prefixes) + tail


def fill(template: str, digits: str) -> str:
    """'8 (###) ###-##-##' with '9161234567' -> '8 (916) 123-45-67'."""
    if template.count("#") != len(digits):
        raise ValueError(f"{template!r} does not fit {len(digits)} digits")
    rest = iter(digits)
    return "".join(next(rest) if char == "#" else char for char in template)


def make_phone(rng: random.Random, plan_name: str) -> tuple[str, str]:
    """(E.164 as stored, the number as someone typed it)."""
    plan = PLANS[plan_name]
    national = national_number(rng, plan)
    typed = fill(rng.choice(plan.formats), national)
    return f"+{plan.code}{national}", typed


def phone_for(rng: random.Random, language: str) -> tuple[str, str]:
    names, weights = zip(*PLANS_BY_LANGUAGE[language], strict=True)
    return make_phone(rng, rng.choices(names, weights)[0])


def typed_as_ru_national(e164: str) -> str:
    """'+79161234567' -> '8 (916) 123-45-67', the way a Moscow clerk types it."""
    return fill("8 (###) ###-##-##", e164.removeprefix("+7"))


def check_sample(pairs: list[tuple[str, str]]) -> None:
    """Every (E.164, typed) pair must be what the services would store for the typed number."""
    from accord.core.phones import normalize_phone

    for e164, typed in pairs:
        stored = normalize_phone(typed)
        if stored != e164:
            raise AssertionError(f"{typed!r} is stored as {stored}, the bench wrote {e164}")


def self_test() -> None:
    """Each format of each plan, a few numbers each, against the services' normalisation."""
    rng = random.Random(1)
    pairs = []
    for name, plan in PLANS.items():
        for fmt in plan.formats:
            for _round in range(5):
                national = national_number(rng, plan)
                pairs.append((f"+{plan.code}{national}", fill(fmt, national)))
        pairs.append(make_phone(rng, name))
    check_sample(pairs)
