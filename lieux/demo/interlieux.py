"""The Pass Interlieux of the demo network: what each venue's "Pass Interlieux" plan opens (its plan and
subscribers are in `offers.py`, sold and invoiced like the others), the badges handed out, the door readers,
who comes where how often, and the clearing key the network voted.

Visits are drawn with a fixed seed, per person and per day, so loading the demo twice draws the same days;
they are dated relative to today and keep to every rule a door would apply (opening hours, closures, the
pass's week days and monthly quota), so the clearing page tells a plausible story."""

from dataclasses import dataclass

PASS_PLAN = "pass-interlieux"
PASS_WEEKDAYS = "01234"  # Monday to Friday
PASS_DAYS_PER_MONTH = 8
PASS_BOOKING_DISCOUNT = "10"

SEED = "monscobar-pass-interlieux"
# Visits from the first day of the month this many months back, up to yesterday.
VISIT_MONTHS = 3


@dataclass(frozen=True)
class BadgeSpec:
    person: str
    venue: str  # the venue that hands it out: the person's home venue
    uid: str
    label: str


@dataclass(frozen=True)
class Habit:
    """How many days a month `person` comes to `venue`, on average. Whether a given day turns into a visit
    depends on the person's rights that day: a subscription at the venue, or a pass that includes it."""

    person: str
    venue: str
    days_per_month: int


# Made-up UIDs in the usual 7-byte MIFARE shape.
BADGES = (
    BadgeSpec("lea@demo.lieux-communs.org", "baraka", "04A3B17C2E5D80", "Carte Léa"),
    BadgeSpec("thomas@demo.lieux-communs.org", "baraka", "04B2C4E61A3F80", "Carte Thomas"),
    BadgeSpec("camille@demo.lieux-communs.org", "la-coroutine", "04C6E2A95B1180", "Carte Camille"),
    BadgeSpec("mehdi@demo.lieux-communs.org", "mons-fabrica", "04D19F3B77C280", "Carte Mehdi"),
)

DOORS = {
    "baraka": "Porte de la cour",
    "la-coroutine": "Entrée du plateau",
    "mons-fabrica": "Porte de l'atelier",
}

# The first row of a person is their home venue; the others are trips on the pass, drawn first each day
# (a day elsewhere is planned, a day at home is what is left).
HABITS = (
    Habit("lea@demo.lieux-communs.org", "baraka", 6),
    Habit("lea@demo.lieux-communs.org", "la-coroutine", 5),
    Habit("lea@demo.lieux-communs.org", "mons-fabrica", 3),
    Habit("thomas@demo.lieux-communs.org", "baraka", 12),
    Habit("thomas@demo.lieux-communs.org", "mons-fabrica", 8),
    Habit("thomas@demo.lieux-communs.org", "la-coroutine", 3),
    Habit("aurore@demo.lieux-communs.org", "baraka", 8),
    Habit("camille@demo.lieux-communs.org", "la-coroutine", 12),
    Habit("camille@demo.lieux-communs.org", "baraka", 8),
    Habit("camille@demo.lieux-communs.org", "mons-fabrica", 4),
    Habit("yanis@demo.lieux-communs.org", "la-coroutine", 10),
    Habit("yanis@demo.lieux-communs.org", "baraka", 5),
    Habit("ines@demo.lieux-communs.org", "la-coroutine", 10),
    Habit("karim@demo.lieux-communs.org", "la-coroutine", 16),
    Habit("mehdi@demo.lieux-communs.org", "mons-fabrica", 10),
    Habit("mehdi@demo.lieux-communs.org", "la-coroutine", 3),
    Habit("mehdi@demo.lieux-communs.org", "baraka", 3),
)

# Working days in a month, roughly: turns "days a month" into the chance of coming on an open day.
OPEN_DAYS_PER_MONTH = 21

# The key voted by the network's general assembly, four months before today (so it values every month of
# visits), in euros excl. VAT.
KEY_METHOD = "per_visit"
KEY_PRICE = "8"
KEY_ALLOWANCE = 2
KEY_CAP = "150"
KEY_NOTE = "Assemblée du réseau MONSCOBAR"
# The statements computed and closed: the full months of visits before the current one.
CLOSED_MONTHS = VISIT_MONTHS
