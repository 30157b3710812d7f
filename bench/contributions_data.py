"""The contributions data sets: pasted lines for the bulk import, and a network budget over a year of
contributions, on top of the bench network (bench/generate.py).

**People.** Contributors (2,000 at scale 1, 200 at 0.1) have accounts of their own, written once by `COPY`
and kept across runs; a few of them are stewards of the projects. The budget's manager is the manager of
the network's first venue (a manager of any venue of the network manages a network-wide budget).

**The budget** (`--only contributions-budget`), rewritten before each run and removed after it: one
network-wide budget over twelve months (from the first day of the month eleven months ago to the end of
this month), ten projects (three of the whole network, seven at venues), twelve activities shared by the
network and three of the budget's own, and 100,000 contributions at scale 1 (10,000 at 0.1) from the
contributors, some far more active than others. Each contribution is declared a few days after it was
done, then decided by a steward of its project a few days later — unless that day is still to come, when
it is still submitted (or, declared by a steward for someone else, still awaiting their confirmation):
about 91 % validated, 7 % refused, 2 % withdrawn. About half ask an amount (hours × 12 to 20 €, or a flat
sum for lending). Every month, the validated requests of most contributors are paid — in euros against an
invoice (a fifth of them to the contributor's structure), or in booking credit at one of three venues for
the quarter of contributors who prefer it (rounded down to a quarter of a credit, the rest staying owed).
Funding: three grants (the ANCT « Fabrique de Territoire » among them), a share of membership income, a
foundation and six venues' shares, committing 12 % more than what is validated, mostly at the start of the
period; grants pay half within a fortnight and 30 % at five months, membership income monthly.

The ledger is written in bulk, but posting by posting as lieux.contributions.services would post it — the
same keys (`funding:<source>`, `receipt:<receipt>`, `validation:<contribution>`, `payout:euros:…`,
`payout:credit:…`), the same legs, the LedgerDay rows summed per (account, kind, local day) as
`services.ledger_days.add_posting` sums them — with the reviews, payouts, credit lots and their grant
entries, each person's consent to appear on public pages (named, pseudonym, hidden, or no profile), and the
hours tallies of the public pages (ActivityHours, PersonHours) summed by the platform's own rule
(`lieux.contributions.rules.hours.tally`, which `services.hours.count_validated` applies). The
generation is checked against the platform's own reads before anything is measured (`verify_budget`).
The history's audit rows are not written: no page reads them.

**The import** (`--only contributions-import`): a public project and its budget over the same period, and
10,000 pasted lines at scale 1 (1,000 at 0.1) in every form the parser reads (dates as 01/02/2026,
1/2/26, 2026-02-01 or 01.02.2026; hours as 2h, 1h30, 1,5h, 45min; amounts as 60€, 12,50 €, €30; activities
in any case), with comment and blank lines between them.

Everything but the accounts is found again by its `banc-contrib` slug prefix, its credit type codes, its
sessions or its keys, and `clean` deletes it.
"""

import hashlib
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from decimal import ROUND_FLOOR, Decimal
from zoneinfo import ZoneInfo

import psycopg

from bench.generate import TZ_NAME

FULL_CONTRIBUTIONS = 100_000
FULL_CONTRIBUTORS = 2_000
FULL_IMPORT_LINES = 10_000
PREFIX = "banc-contrib"
BUDGET_SLUG = f"{PREFIX}-reseau"
IMPORT_SLUG = f"{PREFIX}-import"
DOMAIN = "contrib.banc.lieux-communs.test"
NULL = "\\N"
CENT = Decimal("0.01")
ZERO = Decimal("0.00")
CREDIT_STEP = Decimal("0.25")
FUNDING_MARGIN = Decimal("1.12")  # committed ÷ validated

ACTIVITIES = [
    "Communication", "Animation", "Accueil", "Bricolage", "Jardin", "Informatique", "Comptabilité",
    "Ménage", "Cuisine", "Formation", "Graphisme", "Logistique",
]  # fmt: skip
OWN_ACTIVITIES = ["Comité budget", "Évaluation", "Recherche de fonds"]
PROJECTS = [
    # (slug suffix, title, at a venue, weight)
    ("site", "Site et lettre du réseau", False, 6),
    ("formations", "Formations croisées", False, 4),
    ("fabrique", "Fabrique de territoire", False, 8),
    ("jardin", "Jardin partagé", True, 5),
    ("atelier-bois", "Atelier bois", True, 4),
    ("repair", "Repair café", True, 5),
    ("cantine", "Cantine solidaire", True, 6),
    ("accueil", "Accueil et permanences", True, 7),
    ("festival", "Festival d'été", True, 3),
    ("fablab", "Fablab", True, 4),
]
KINDS = [("time", 60), ("skill", 15), ("knowledge", 10), ("lending", 8), ("mutual_aid", 7)]
HOURS = [
    (Decimal("0.5"), 3), (Decimal("1"), 8), (Decimal("1.5"), 6), (Decimal("2"), 10), (Decimal("2.5"), 4),
    (Decimal("3"), 8), (Decimal("4"), 5), (Decimal("5"), 2), (Decimal("6"), 2), (Decimal("8"), 1),
]  # fmt: skip
FLAT_AMOUNTS = [Decimal(n) for n in (10, 15, 20, 30, 50, 80)]
HOURLY_RATES = [Decimal(n) for n in (12, 15, 20)]
VERBS = [
    "Préparation de", "Animation de", "Rédaction de", "Réparation de", "Mise en page de", "Tenue de",
    "Organisation de", "Nettoyage de", "Installation de", "Inventaire de", "Relecture de", "Suivi de",
]  # fmt: skip
OBJECTS = [
    "la lettre mensuelle", "l'atelier du samedi", "la permanence", "la scie à ruban", "l'affiche du festival",
    "la buvette", "la comptabilité du trimestre", "la réunion d'équipe", "la serre", "la découpeuse laser",
    "la cantine du mardi", "l'accueil des nouveaux", "la formation couture", "la visite des élus",
]  # fmt: skip
FIRST_NAMES = [
    "Camille", "Dominique", "Claude", "Alix", "Sacha", "Lou", "Nour", "Yanis", "Inès", "Jules", "Léa",
    "Malik", "Chloé", "Hugo", "Aïcha", "Théo", "Manon", "Karim", "Zoé", "Bastien", "Fatou", "Élise",
    "Mathis", "Jeanne",
]  # fmt: skip
LAST_NAMES = [
    "Martin", "Bernard", "Dubois", "Lefebvre", "Moreau", "Garcia", "Roux", "Fournier", "Girard", "Mercier",
    "Benali", "Nguyen", "Lambert", "Fontaine", "Chevalier", "Robin", "Diallo", "Leroy", "Perrin",
    "Carpentier",
]  # fmt: skip
STRUCTURES = ["CAE Grands Ensemble", "SCOP Les Tisserands", "Association Bricobus", "SCIC La Coursive"]
# Credit offered in exchange for euros owed: (code, name, euros per credit) at three venues of the network.
CREDITS = [
    (f"{PREFIX}-coworking", "Journées de coworking", Decimal("15.00")),
    (f"{PREFIX}-salle", "Heures de salle", Decimal("25.00")),
    (f"{PREFIX}-atelier", "Heures d'atelier", Decimal("12.50")),
]
# (name, kind, funder, share of the total committed, months after the start it is committed, venue share)
SOURCES = [
    ("Fabrique de Territoire — ANCT", "grant", "Agence nationale de la cohésion des territoires", "0.30", 0),
    ("Tiers-lieux en Hauts-de-France", "grant", "Région Hauts-de-France", "0.25", 0),
    ("Appel à projets Économie sociale", "grant", "Métropole européenne de Lille", "0.15", 0),
    ("Part des adhésions", "membership_income", "", "0.10", 0),
    ("Fondation partenaire", "other", "Fondation de France", "0.08", 0),
]
VENUE_SHARES = 6  # venue_share sources of 2 % each, committed at three and six months
STATUS_SHARES = {"refused": 0.07, "withdrawn": 0.02}  # of the contributions decided; the rest validated


def log(message: str) -> None:
    print(f"  [contributions data] {message}", flush=True)


def paris() -> ZoneInfo:
    return ZoneInfo(TZ_NAME)


def paris_today() -> date:
    return datetime.now(paris()).date()


def period(today: date) -> tuple[date, date]:
    """Twelve months: from the first day of the month eleven months ago to the last day of this one."""
    index = today.year * 12 + today.month - 1 - 11
    starts_on = date(index // 12, index % 12 + 1, 1)
    following = today.replace(day=28) + timedelta(days=4)
    return starts_on, following.replace(day=1) - timedelta(days=1)


def contributions_at(scale: float) -> int:
    return max(500, round(FULL_CONTRIBUTIONS * scale))


def contributors_at(scale: float) -> int:
    return max(50, round(FULL_CONTRIBUTORS * scale))


def import_lines_at(scale: float) -> int:
    return max(100, round(FULL_IMPORT_LINES * scale))


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f+00")


def at_paris(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, clock(hour, minute), tzinfo=paris())


def text(value: str) -> str:
    """A value for COPY's text format."""
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def money(value: Decimal | None) -> str:
    return NULL if value is None else f"{value:.2f}"


def one(conn: psycopg.Connection, query: str, params: list | dict | None = None) -> tuple:
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return row


def copy_rows(conn: psycopg.Connection, table: str, columns: str, rows: list[str]) -> None:
    with conn.cursor().copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for start in range(0, len(rows), 20_000):
            copy.write("".join(rows[start : start + 20_000]))


def reserve_ids(conn: psycopg.Connection, table: str, count: int) -> int:
    """The first of `count` consecutive ids taken from the table's sequence (the bench database has no
    other writer while it runs)."""
    sequence = one(conn, "SELECT pg_get_serial_sequence(%s, 'id')", [table])[0]
    first = one(conn, "SELECT nextval(%s)", [sequence])[0]
    if count > 1:
        conn.execute("SELECT setval(%s, %s)", [sequence, first + count - 1])
    return first


# --- cleaning -----------------------------------------------------------------------------------------------


def clean(conn: psycopg.Connection, *, sessions: list[str] | None = None) -> dict[str, int]:
    """Delete every row this bench wrote, accounts excepted; rows deleted per table."""
    budgets = "SELECT id FROM contributions_budget WHERE slug LIKE %(prefix)s"
    projects = "SELECT id FROM contributions_project WHERE slug LIKE %(prefix)s"
    contributions = (
        f"SELECT id FROM contributions_contribution WHERE project_id IN ({projects})"
        f" OR budget_id IN ({budgets})"
    )
    payouts = f"SELECT id FROM contributions_payout WHERE budget_id IN ({budgets})"
    types = "SELECT id FROM memberships_credittype WHERE code LIKE %(prefix)s"
    lots = f"SELECT id FROM memberships_creditlot WHERE credit_type_id IN ({types})"
    statements = [
        ("audit rows", "DELETE FROM core_auditevent WHERE object_type LIKE 'contributions.%%' AND object_id"
                       " IN (SELECT id::text FROM contributions_contribution WHERE project_id IN"
                       f" ({projects}))"),
        ("activity links", "DELETE FROM contributions_contribution_activities WHERE contribution_id IN"
                           f" ({contributions})"),
        ("reviews", f"DELETE FROM contributions_review WHERE contribution_id IN ({contributions})"),
        ("ledger entries", f"DELETE FROM contributions_ledgerentry WHERE budget_id IN ({budgets})"),
        ("ledger days", f"DELETE FROM contributions_ledgerday WHERE budget_id IN ({budgets})"),
        ("people owed", f"DELETE FROM contributions_personowed WHERE budget_id IN ({budgets})"),
        ("ledger transactions", "DELETE FROM contributions_ledgertransaction WHERE budget_id IN"
                                f" ({budgets})"),
        ("hours by activity", "DELETE FROM contributions_activityhours WHERE scope = 'budget' AND scope_id IN"
                              f" ({budgets}) OR scope = 'project' AND scope_id IN ({projects})"),
        ("hours by person", "DELETE FROM contributions_personhours WHERE scope = 'budget' AND scope_id IN"
                            f" ({budgets}) OR scope = 'project' AND scope_id IN ({projects})"),
        ("contributions", f"DELETE FROM contributions_contribution WHERE id IN ({contributions})"),
        ("payouts", f"DELETE FROM contributions_payout WHERE id IN ({payouts})"),
        ("credit entries", f"DELETE FROM memberships_creditentry WHERE lot_id IN ({lots})"),
        ("credit lots", f"DELETE FROM memberships_creditlot WHERE id IN ({lots})"),
        ("credit conversions", "DELETE FROM contributions_creditconversion WHERE credit_type_id IN"
                               f" ({types})"),
        ("credit types", f"DELETE FROM memberships_credittype WHERE id IN ({types})"),
        ("funding receipts", "DELETE FROM contributions_fundingreceipt WHERE source_id IN"
                             f" (SELECT id FROM contributions_fundingsource WHERE budget_id IN ({budgets}))"),
        ("funding sources", f"DELETE FROM contributions_fundingsource WHERE budget_id IN ({budgets})"),
        ("activities", f"DELETE FROM contributions_activity WHERE budget_id IN ({budgets})"),
        ("budgets", f"DELETE FROM contributions_budget WHERE id IN ({budgets})"),
        ("stewards", f"DELETE FROM contributions_project_stewards WHERE project_id IN ({projects})"),
        ("projects", f"DELETE FROM contributions_project WHERE id IN ({projects})"),
        ("contributor profiles", "DELETE FROM contributions_contributorprofile WHERE person_id IN"
                                 " (SELECT id FROM accounts_user WHERE email LIKE %(people)s)"),
    ]  # fmt: skip
    params = {"prefix": f"{PREFIX}%", "people": f"%@{DOMAIN}"}
    removed: dict[str, int] = {}
    with conn.transaction():
        for label, statement in statements:
            removed[label] = conn.execute(statement, params).rowcount
        if sessions:
            removed["sessions"] = conn.execute(
                "DELETE FROM django_session WHERE session_key = ANY(%s)", [sessions]
            ).rowcount
    return removed


# --- shared set-up ------------------------------------------------------------------------------------------


def ensure_people(conn: psycopg.Connection, count: int) -> list[tuple[int, str, str]]:
    """(id, first name, last name) of `count` contributor accounts, written by COPY the first time."""
    have = one(conn, "SELECT count(*) FROM accounts_user WHERE email LIKE %s", [f"%@{DOMAIN}"])[0]
    if have < count:
        step = time.perf_counter()
        columns = (
            "password, is_superuser, email, first_name, last_name, phone, language, is_active, is_staff, "
            "date_joined, address"
        )
        rows = [
            f"!\tf\tcontributeur{n}@{DOMAIN}\t{FIRST_NAMES[n % len(FIRST_NAMES)]}\t"
            f"{LAST_NAMES[n // len(FIRST_NAMES) % len(LAST_NAMES)]} {n}\t\tfr\tt\tf\t"
            "2025-01-01 09:00:00+00\t\n"
            for n in range(have, count)
        ]
        with conn.transaction():
            copy_rows(conn, "accounts_user", columns, rows)
        log(f"{count - have:,} contributor accounts written in {time.perf_counter() - step:.1f}s")
    # In creation order, so that contributor n is the same account at every run.
    return [
        (pk, first, last)
        for pk, first, last in conn.execute(
            "SELECT id, first_name, last_name FROM accounts_user WHERE email LIKE %s ORDER BY id LIMIT %s",
            [f"%@{DOMAIN}", count],
        )
    ]


def network_facts(conn: psycopg.Connection) -> tuple[int, str, list[int], int]:
    """(network id, slug, venue ids, the first venue's manager) of the bench network."""
    row = conn.execute("SELECT id, slug FROM venues_network WHERE slug = 'banc-essai'").fetchone()
    if row is None:
        raise SystemExit("no bench network: generate the data set first")
    venues = [
        r[0] for r in conn.execute("SELECT id FROM venues_venue WHERE network_id = %s ORDER BY id", [row[0]])
    ]
    manager = conn.execute(
        "SELECT user_id FROM venues_venuerole WHERE venue_id = %s AND role = 'manager' ORDER BY id LIMIT 1",
        [venues[0]],
    ).fetchone()
    if len(venues) < 10 or manager is None:
        raise SystemExit("the bench network has too few venues or no manager: generate the data set first")
    return row[0], row[1], venues, manager[0]


def ensure_activities(conn: psycopg.Connection, network_id: int) -> dict[str, int]:
    """The network's shared activities (kept across runs: nothing else uses the bench network's)."""
    conn.execute(
        "INSERT INTO contributions_activity (name, network_id, budget_id) SELECT name, %s, NULL"
        " FROM unnest(%s::text[]) AS name ON CONFLICT DO NOTHING",
        [network_id, ACTIVITIES],
    )
    return dict(
        conn.execute(
            "SELECT name, id FROM contributions_activity WHERE network_id = %s AND budget_id IS NULL"
            " AND name = ANY(%s)",
            [network_id, ACTIVITIES],
        ).fetchall()
    )


def _insert_budget(
    conn: psycopg.Connection,
    *,
    network_id: int,
    slug: str,
    name: str,
    starts_on: date,
    ends_on: date,
    project_id: int | None,
) -> int:
    return one(
        conn,
        "INSERT INTO contributions_budget (slug, name, description, starts_on, ends_on, status, validators,"
        " validations_required, overrun, hourly_value, closed_with, is_public, created_at, network_id,"
        " project_id) VALUES (%s, %s, %s, %s, %s, 'open', 'stewards', 1, 'deficit', 20, '', true, %s, %s, %s)"
        " RETURNING id",
        [
            slug,
            name,
            "Enveloppe contributive du réseau : les demandes validées par les soucieux des chantiers sont "
            "rétribuées en euros ou en crédit utilisable dans les lieux.",
            starts_on,
            ends_on,
            at_paris(starts_on, 9),
            network_id,
            project_id,
        ],
    )[0]


def _insert_project(
    conn: psycopg.Connection, *, network_id: int, venue_id: int | None, slug: str, title: str, created: date
) -> int:
    return one(
        conn,
        "INSERT INTO contributions_project (slug, title, description, status, is_public, created_at,"
        " network_id, venue_id) VALUES (%s, %s, %s, 'active', true, %s, %s, %s) RETURNING id",
        [slug, title, f"{title} : le chantier, ses soucieux et ses contributions.", at_paris(created, 9),
         network_id, venue_id],
    )[0]  # fmt: skip


# --- the import ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportData:
    network_id: int
    actor_id: int
    project_id: int
    budget_id: int
    content: str
    lines: int  # contributions in the text (comment and blank lines aside)
    links: int  # activity links they name (after removing repeats)


def _line(rng: random.Random, day: date, activities: list[str]) -> tuple[str, int]:
    """One pasted line in a random one of the forms people type, and how many activities it names."""
    shape = rng.random()
    if shape < 0.55:
        written = f"{day:%d/%m/%Y}"
    elif shape < 0.7:
        written = f"{day.day}/{day.month}/{day:%y}"
    elif shape < 0.9:
        written = day.isoformat()
    else:
        written = f"{day:%d.%m.%Y}"
    parts = [written]
    roll = rng.random()
    if roll < 0.4:
        parts.append(f"{rng.choice((1, 2, 3, 4, 6))}h")
    elif roll < 0.55:
        parts.append(f"{rng.choice((1, 2, 3))}h{rng.choice(('15', '30', '45'))}")
    elif roll < 0.7:
        parts.append(f"{rng.choice((1, 2, 3))},5 h")
    elif roll < 0.8:
        parts.append(f"{rng.choice((20, 30, 45))}min")
    roll = rng.random()
    if roll < 0.3:
        parts.append(f"{rng.choice((20, 30, 45, 60, 90))}€")
    elif roll < 0.45:
        parts.append(f"{rng.choice((12, 17, 22))},50 €")
    elif roll < 0.5:
        parts.append(f"€{rng.choice((15, 25, 40))}")
    names = rng.sample(activities, rng.choice((0, 1, 1, 2, 2, 3)))
    names = [name.lower() if rng.random() < 0.2 else name for name in names]
    description = f"{rng.choice(VERBS)} {rng.choice(OBJECTS)}"
    if names:
        parts.append(", ".join(names) + " :")
    elif rng.random() < 0.3:
        parts.append(":")
    parts.append(description)
    return " ".join(parts), len(names)


def import_text(rng: random.Random, count: int, first: date, last: date) -> tuple[str, int]:
    """`count` contribution lines, oldest first, with a comment line every week and blank lines; and the
    activity links they name."""
    days = (last - first).days
    picked = sorted(first + timedelta(days=rng.randint(0, days)) for _ in range(count))
    out: list[str] = ["# Contributions du réseau, saisies par semaine", ""]
    links = 0
    week = None
    for day in picked:
        if day.isocalendar()[:2] != week:
            week = day.isocalendar()[:2]
            out += ["", f"# semaine {week[1]} de {week[0]}"]
        line, named = _line(rng, day, ACTIVITIES)
        out.append(line)
        links += named
    return "\n".join(out) + "\n", links


def prepare_import(url: str, *, scale: float, seed: int) -> ImportData:
    """Clean what an earlier run left; write the import's project and budget; build the pasted text."""
    rng = random.Random(seed)
    today = paris_today()
    starts_on, ends_on = period(today)
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        clean(conn)
        network_id, _slug, _venues, _manager = network_facts(conn)
        people = ensure_people(conn, contributors_at(scale))
        with conn.transaction():
            ensure_activities(conn, network_id)
            project_id = _insert_project(
                conn,
                network_id=network_id,
                venue_id=None,
                slug=IMPORT_SLUG,
                title="Saisie en lot (banc d'essai)",
                created=starts_on,
            )
            budget_id = _insert_budget(
                conn,
                network_id=network_id,
                slug=IMPORT_SLUG,
                name="Budget de la saisie en lot (banc d'essai)",
                starts_on=starts_on,
                ends_on=ends_on,
                project_id=project_id,
            )
    count = import_lines_at(scale)
    content, links = import_text(rng, count, starts_on, today)
    return ImportData(
        network_id=network_id,
        actor_id=people[0][0],
        project_id=project_id,
        budget_id=budget_id,
        content=content,
        lines=count,
        links=links,
    )


# --- the budget ---------------------------------------------------------------------------------------------


@dataclass
class Expected:
    """What the generator wrote, tallied from its own rows: the figures the platform must read back."""

    committed: Decimal = ZERO
    received: Decimal = ZERO
    validated: Decimal = ZERO
    paid_euros: Decimal = ZERO
    credit_issued: Decimal = ZERO
    pending_count: int = 0
    pending_amount: Decimal = ZERO
    statuses: dict[str, int] = field(default_factory=dict)
    owed: dict[int, Decimal] = field(default_factory=dict)  # person → owed
    days: dict[tuple[str, str, date], Decimal] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)  # rows written per table
    envelope_overdrawn: int = 0  # postings that left validated above committed (the generator avoids it)
    cash_overdrawn: int = 0  # euro payouts that would have found too little cash (skipped)


@dataclass(frozen=True)
class BudgetData:
    network_id: int
    network_slug: str
    budget_id: int
    budget_slug: str
    manager_id: int
    # A contributor the budget owes money (their page shows the credit they could take instead).
    viewer_id: int
    contributions: int
    contributors: int
    starts_on: date
    ends_on: date
    today: date
    expected: Expected
    seconds: float


class _Ledger:
    """Postings as services.ledger.post writes them: a transaction, its entries, its day sums."""

    def __init__(self, conn: psycopg.Connection, budget_id: int, expected: Expected) -> None:
        self.budget_id = budget_id
        self.expected = expected
        self.transactions: list[tuple[str, str, datetime, str, int | None]] = []
        self.entries: list[tuple[int, str, Decimal, int | None, int | None]] = []  # (tx index, …)
        self.days: dict[tuple[str, str, date], Decimal] = defaultdict(Decimal)
        self.owed: dict[int, Decimal] = defaultdict(Decimal)  # person → what the budget owes them
        self.conn = conn

    def post(
        self,
        key: str,
        kind: str,
        at: datetime,
        legs: list[tuple[str, Decimal, int | None, int | None]],
        memo: str,
        actor: int | None,
    ) -> None:
        assert legs and sum((leg[1] for leg in legs), ZERO) == 0 and all(leg[1] for leg in legs)
        index = len(self.transactions)
        self.transactions.append((key, kind, at, memo[:200], actor))
        day = at.astimezone(paris()).date()
        for account, amount, person, venue in legs:
            self.entries.append((index, account, amount, person, venue))
            self.days[(account, kind, day)] += amount
            if account == "owed" and person is not None:
                self.owed[person] -= amount

    def write(self) -> None:
        first = reserve_ids(self.conn, "contributions_ledgertransaction", len(self.transactions))
        copy_rows(
            self.conn,
            "contributions_ledgertransaction",
            "id, key, kind, at, memo, actor_id, budget_id",
            [
                f"{first + n}\t{text(key)}\t{kind}\t{stamp(at)}\t{text(memo)}\t"
                f"{NULL if actor is None else actor}\t{self.budget_id}\n"
                for n, (key, kind, at, memo, actor) in enumerate(self.transactions)
            ],
        )
        copy_rows(
            self.conn,
            "contributions_ledgerentry",
            "transaction_id, account, amount, person_id, venue_id, budget_id",
            [
                f"{first + index}\t{account}\t{amount:.2f}\t{NULL if person is None else person}\t"
                f"{NULL if venue is None else venue}\t{self.budget_id}\n"
                for index, account, amount, person, venue in self.entries
            ],
        )
        days = {key: amount for key, amount in self.days.items() if amount}
        copy_rows(
            self.conn,
            "contributions_ledgerday",
            "budget_id, account, kind, day, amount",
            [
                f"{self.budget_id}\t{account}\t{kind}\t{day}\t{amount:.2f}\n"
                for (account, kind, day), amount in sorted(days.items())
            ],
        )
        owed = {person: amount for person, amount in self.owed.items() if amount}
        copy_rows(
            self.conn,
            "contributions_personowed",
            "budget_id, person_id, amount",
            [f"{self.budget_id}\t{person}\t{amount:.2f}\n" for person, amount in sorted(owed.items())],
        )
        self.expected.days = days
        self.expected.rows |= {
            "ledger transactions": len(self.transactions),
            "ledger entries": len(self.entries),
            "ledger days": len(days),
            "people owed rows": len(owed),
        }


@dataclass
class _Contribution:
    pk: int
    person: int
    project: int
    performed_on: date
    created: datetime
    hours: Decimal | None
    kind: str
    amount: Decimal | None
    status: str
    declared_by: int
    description: str
    activities: list[int]
    decided: datetime | None = None
    reviewer: int | None = None
    payout: int | None = None


def _weighted(rng: random.Random, items: list, weights: list[float], k: int) -> list:
    return rng.choices(items, weights=weights, k=k)


def prepare_budget(url: str, *, scale: float, seed: int) -> BudgetData:
    """Clean what an earlier run left, then write the budget, its year of contributions and its ledger."""
    started = time.perf_counter()
    rng = random.Random(seed)
    now = datetime.now(UTC)
    today = paris_today()
    starts_on, ends_on = period(today)
    count = contributions_at(scale)
    expected = Expected()
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        clean(conn)
        network_id, network_slug, venues, manager = network_facts(conn)
        people = ensure_people(conn, contributors_at(scale))
        person_ids = [pk for pk, _first, _last in people]
        names = {pk: f"{first} {last}" for pk, first, last in people}
        with conn.transaction():
            conn.execute("SET LOCAL synchronous_commit = off")
            shared = ensure_activities(conn, network_id)
            budget_id = _insert_budget(
                conn,
                network_id=network_id,
                slug=BUDGET_SLUG,
                name="Budget contributif du réseau (banc d'essai)",
                starts_on=starts_on,
                ends_on=ends_on,
                project_id=None,
            )
            own = [
                one(
                    conn,
                    "INSERT INTO contributions_activity (name, network_id, budget_id) VALUES (%s, %s, %s)"
                    " RETURNING id",
                    [name, network_id, budget_id],
                )[0]
                for name in OWN_ACTIVITIES
            ]
            activity_ids = [shared[name] for name in ACTIVITIES] + own
            activity_weights = [8, 7, 6, 5, 4, 4, 3, 3, 3, 3, 2, 2, 1, 1, 1]

            # Projects, each with three stewards among the most active contributors.
            projects: list[tuple[int, list[int]]] = []
            venue_projects = rng.sample(venues, sum(1 for p in PROJECTS if p[2]))
            for n, (suffix, title, at_venue, _weight) in enumerate(PROJECTS):
                pk = _insert_project(
                    conn,
                    network_id=network_id,
                    venue_id=venue_projects.pop() if at_venue else None,
                    slug=f"{PREFIX}-{suffix}",
                    title=title,
                    created=starts_on - timedelta(days=30),
                )
                stewards = [person_ids[(3 * n + k) % len(person_ids)] for k in range(3)]
                projects.append((pk, stewards))
            copy_rows(
                conn,
                "contributions_project_stewards",
                "project_id, user_id",
                [f"{pk}\t{s}\n" for pk, stewards in projects for s in stewards],
            )
            project_weights = [p[3] for p in PROJECTS]

            # Consent to appear on public pages, and structures that invoice for some contributors.
            profiles, structure_of = [], {}
            for n, pk in enumerate(person_ids):
                roll = rng.random()
                structure = rng.choice(STRUCTURES) if rng.random() < 0.15 else ""
                if structure:
                    structure_of[pk] = structure
                if roll < 0.35:
                    visibility, pseudonym = "name", ""
                elif roll < 0.55:
                    visibility, pseudonym = (
                        "pseudonym",
                        f"{rng.choice(('Castor', 'Hibou', 'Loutre', 'Renard'))}{n}",
                    )
                elif roll < 0.65 or structure:
                    visibility, pseudonym = "hidden", ""
                else:
                    continue  # no profile: counted, never named
                profiles.append(f"{visibility}\t{pseudonym}\t{text(structure)}\t{stamp(now)}\t{pk}\n")
            copy_rows(
                conn,
                "contributions_contributorprofile",
                "visibility, pseudonym, structure_name, updated_at, person_id",
                profiles,
            )

            # Credit types and the collective's conversion rates at three venues.
            conversions = []
            for n, (code, name, rate) in enumerate(CREDITS):
                venue = venues[n * 7 % len(venues)]
                type_id = one(
                    conn,
                    "INSERT INTO memberships_credittype (code, name, venue_id) VALUES (%s, %s, %s)"
                    " RETURNING id",
                    [code, name, venue],
                )[0]
                conversion = one(
                    conn,
                    "INSERT INTO contributions_creditconversion (euros_per_credit, validity_months,"
                    " is_active, credit_type_id, network_id) VALUES (%s, 12, true, %s, %s) RETURNING id",
                    [rate, type_id, network_id],
                )[0]
                conversions.append((conversion, type_id, venue, rate))

            contributions = _contributions(
                rng,
                count=count,
                first_id=reserve_ids(conn, "contributions_contribution", count),
                people=person_ids,
                projects=projects,
                project_weights=project_weights,
                activity_ids=activity_ids,
                activity_weights=activity_weights,
                starts_on=starts_on,
                today=today,
                now=now,
            )
            ledger = _Ledger(conn, budget_id, expected)
            decided = [c for c in contributions if c.decided and c.status == "validated"]
            validated = sum((c.amount or ZERO for c in decided), ZERO)
            sources, receipts = _funding(
                conn, rng, ledger, expected, budget_id=budget_id, venues=venues, manager=manager,
                validated=validated, starts_on=starts_on, today=today, now=now,
            )  # fmt: skip
            payouts, lots = _validations_and_payouts(
                conn,
                rng,
                ledger,
                expected,
                contributions,
                budget_id=budget_id,
                manager=manager,
                names=names,
                structure_of=structure_of,
                conversions=conversions,
                receipts=receipts,
                starts_on=starts_on,
                now=now,
            )
            _write_contributions(conn, contributions, budget_id)
            ledger.write()
            expected.rows |= _write_tallies(conn, contributions, budget_id)
            for c in contributions:
                expected.statuses[c.status] = expected.statuses.get(c.status, 0) + 1
                if c.status == "submitted":
                    expected.pending_count += 1
                    expected.pending_amount += c.amount or ZERO
            expected.rows |= {
                "contributions": len(contributions),
                "activity links": sum(len(c.activities) for c in contributions),
                "reviews": sum(1 for c in contributions if c.reviewer is not None),
                "payouts": payouts,
                "credit lots": lots,
                "funding sources": sources,
                "funding receipts": len(receipts),
                "contributor profiles": len(profiles),
            }
        for table in (
            "contributions_contribution",
            "contributions_contribution_activities",
            "contributions_review",
            "contributions_ledgertransaction",
            "contributions_ledgerentry",
            "contributions_ledgerday",
            "contributions_payout",
            "contributions_contributorprofile",
            "memberships_creditlot",
            # Written in bulk by the generators: statistics as autovacuum would have them by now.
            "accounts_user",
            "venues_venue",
        ):
            conn.execute(f"VACUUM (ANALYZE) {table}")
    owed = [pk for pk, amount in sorted(expected.owed.items()) if amount >= 20]
    seconds = time.perf_counter() - started
    log(
        f"{count:,} contributions from {len(person_ids):,} contributors over {starts_on} – {ends_on} "
        f"({', '.join(f'{n:,} {s}' for s, n in sorted(expected.statuses.items()))}), "
        + ", ".join(f"{n:,} {label}" for label, n in expected.rows.items() if label != "contributions")
        + f"; written in {seconds:.1f}s"
    )
    return BudgetData(
        network_id=network_id,
        network_slug=network_slug,
        budget_id=budget_id,
        budget_slug=BUDGET_SLUG,
        manager_id=manager,
        viewer_id=owed[len(owed) // 2] if owed else person_ids[0],
        contributions=count,
        contributors=len(person_ids),
        starts_on=starts_on,
        ends_on=ends_on,
        today=today,
        expected=expected,
        seconds=seconds,
    )


def _contributions(
    rng: random.Random,
    *,
    count: int,
    first_id: int,
    people: list[int],
    projects: list[tuple[int, list[int]]],
    project_weights: list[int],
    activity_ids: list[int],
    activity_weights: list[int],
    starts_on: date,
    today: date,
    now: datetime,
) -> list[_Contribution]:
    """The year of contributions, each with its status as of now (decisions in the future not taken)."""
    # Some people contribute far more than others.
    person_weights = [1 / (rank + 1) ** 0.7 for rank in range(len(people))]
    who = _weighted(rng, people, person_weights, count)
    where = _weighted(rng, projects, project_weights, count)
    span = (today - starts_on).days
    kinds = [k for k, _w in KINDS]
    kind_weights = [w for _k, w in KINDS]
    hours_values = [h for h, _w in HOURS]
    hours_weights = [w for _h, w in HOURS]
    made = []
    for n in range(count):
        person = who[n]
        project, stewards = where[n]
        performed_on = starts_on + timedelta(days=rng.randint(0, span))
        kind = rng.choices(kinds, weights=kind_weights)[0]
        hours = (
            None if kind == "lending" and rng.random() < 0.7 else rng.choices(hours_values, hours_weights)[0]
        )
        amount = None
        if rng.random() < 0.5:
            amount = (hours * rng.choice(HOURLY_RATES)).quantize(CENT) if hours else rng.choice(FLAT_AMOUNTS)
        created = min(
            at_paris(performed_on, rng.randint(8, 21), rng.randrange(60)) + timedelta(days=rng.randint(0, 6)),
            now - timedelta(minutes=5),
        )
        declared_by = person
        if rng.random() < 0.03:
            declared_by = next((s for s in stewards if s != person), person)
        decided = created + timedelta(days=rng.randint(1, 20), minutes=rng.randint(0, 600))
        names = rng.choices(activity_ids, weights=activity_weights, k=rng.choice((1, 1, 1, 2, 2, 3)))
        contribution = _Contribution(
            pk=first_id + n,
            person=person,
            project=project,
            performed_on=performed_on,
            created=created,
            hours=hours,
            kind=kind,
            amount=amount,
            status="submitted",
            declared_by=declared_by,
            description=f"{rng.choice(VERBS)} {rng.choice(OBJECTS)}",
            activities=list(dict.fromkeys(names)),
        )
        if decided >= now:
            if declared_by != person:
                contribution.status = "awaiting"
        else:
            roll = rng.random()
            contribution.decided = decided
            if roll < STATUS_SHARES["withdrawn"]:
                contribution.status = "withdrawn"
            else:
                contribution.reviewer = next((s for s in stewards if s != person), stewards[0])
                contribution.status = (
                    "refused" if roll < STATUS_SHARES["withdrawn"] + STATUS_SHARES["refused"] else "validated"
                )
        made.append(contribution)
    return made


def _funding(
    conn: psycopg.Connection,
    rng: random.Random,
    ledger: _Ledger,
    expected: Expected,
    *,
    budget_id: int,
    venues: list[int],
    manager: int,
    validated: Decimal,
    starts_on: date,
    today: date,
    now: datetime,
) -> tuple[int, list[tuple[date, Decimal]]]:
    """Sources committing FUNDING_MARGIN × what the year validates, and the receipts already in; returns
    the number of sources and the receipts (day, amount)."""
    total = (validated * FUNDING_MARGIN).quantize(Decimal("1000"), rounding=ROUND_FLOOR) + 1000
    plan = [
        (name, kind, funder, Decimal(share), months, None) for name, kind, funder, share, months in SOURCES
    ]
    for n, venue in enumerate(rng.sample(venues, VENUE_SHARES)):
        plan.append(
            (f"Part du lieu n° {n + 1}", "venue_share", "", Decimal("0.02"), 3 if n < 3 else 6, venue)
        )
    sources, receipts = [], []
    first = reserve_ids(conn, "contributions_fundingsource", len(plan))
    for n, (name, kind, funder, share, months, venue) in enumerate(plan):
        pk = first + n
        amount = (total * share).quantize(CENT)
        committed_on = _add_months(starts_on, months)
        if committed_on > today:
            continue
        sources.append(
            f"{pk}\t{text(name)}\t{kind}\t{text(funder)}\t{amount:.2f}\t{committed_on}\t"
            f"{stamp(at_paris(committed_on, 9))}\t{budget_id}\t{NULL if venue is None else venue}\n"
        )
        ledger.post(
            f"funding:{pk}",
            "funding",
            at_paris(committed_on, 9, 30),
            [("receivable", amount, None, None), ("envelope", -amount, None, None)],
            name,
            manager,
        )
        expected.committed += amount
        if kind == "grant":
            instalments = [(15, Decimal("0.5")), (150, Decimal("0.3"))]
        elif kind == "membership_income":
            instalments = [(30 * m + 10, Decimal(1) / 12) for m in range(12)]
        else:
            instalments = [(10, Decimal(1))]
        for days, part in instalments:
            received_on = committed_on + timedelta(days=days)
            if received_on > today:
                continue
            # Rounded down: instalments never add up to more than the source committed.
            receipts.append((pk, received_on, (amount * part).quantize(CENT, rounding=ROUND_FLOOR), name))
    receipts.sort(key=lambda r: r[1])
    first_receipt = reserve_ids(conn, "contributions_fundingreceipt", len(receipts))
    rows = []
    for n, (source, received_on, amount, name) in enumerate(receipts):
        pk = first_receipt + n
        reference = f"VIR-{received_on:%Y%m%d}-{n:03d}"
        rows.append(
            f"{pk}\t{amount:.2f}\t{received_on}\t{reference}\t{stamp(at_paris(received_on, 10))}\t{source}\n"
        )
        ledger.post(
            f"receipt:{pk}",
            "receipt",
            at_paris(received_on, 10, 5),
            [("cash", amount, None, None), ("receivable", -amount, None, None)],
            f"{name} {reference}",
            manager,
        )
        expected.received += amount
    copy_rows(
        conn,
        "contributions_fundingsource",
        "id, name, kind, funder, amount, committed_on, created_at, budget_id, venue_id",
        sources,
    )
    copy_rows(
        conn,
        "contributions_fundingreceipt",
        "id, amount, received_on, reference, created_at, source_id",
        rows,
    )
    return len(sources), [(received_on, amount) for _s, received_on, amount, _n in receipts]


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    following = date(index // 12, index % 12 + 1, 1)
    last = (following.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return following.replace(day=min(day.day, last.day))


def _validations_and_payouts(
    conn: psycopg.Connection,
    rng: random.Random,
    ledger: _Ledger,
    expected: Expected,
    contributions: list[_Contribution],
    *,
    budget_id: int,
    manager: int,
    names: dict[int, str],
    structure_of: dict[int, str],
    conversions: list[tuple[int, int, int, Decimal]],
    receipts: list[tuple[date, Decimal]],
    starts_on: date,
    now: datetime,
) -> tuple[int, int]:
    """Post the validations in the order they happened and pay, on the 5th of every month, what most
    contributors are owed, by the method each prefers; returns (payouts, credit lots)."""
    validations = sorted(
        (c for c in contributions if c.status == "validated" and c.decided is not None),
        key=lambda c: c.decided or now,
    )
    # A quarter of the people prefer credit, each at one venue.
    prefers = {
        person: rng.choice(conversions) if rng.random() < 0.25 else None
        for person in {c.person for c in validations}
    }
    owed: dict[int, Decimal] = defaultdict(Decimal)
    payable: dict[int, list[_Contribution]] = defaultdict(list)
    committed_by = sorted((day, amount) for day, amount in _commitments(ledger))
    granted = ZERO
    cash_in = sorted(receipts)
    paid_euros = ZERO
    payouts: list[str] = []
    lots: list[str] = []
    entries: list[str] = []
    first_payout = reserve_ids(conn, "contributions_payout", len(validations) + 1)
    first_lot = reserve_ids(conn, "memberships_creditlot", len(validations) + 1)
    next_payout, next_lot = first_payout, first_lot
    pay_days = [_add_months(starts_on.replace(day=5), m) for m in range(1, 13)]
    pay_times = [at_paris(day, 11) for day in pay_days if at_paris(day, 11) < now]
    position = 0
    invoice = 0

    def validate(c: _Contribution) -> None:
        nonlocal granted
        c.payout = None
        if c.amount is None or c.amount <= 0 or c.decided is None:
            return
        granted += c.amount
        committed = sum((a for day, a in committed_by if day <= c.decided.date()), ZERO)
        if granted > committed:
            expected.envelope_overdrawn += 1
        ledger.post(
            f"validation:{c.pk}",
            "validation",
            c.decided,
            [("envelope", c.amount, None, None), ("owed", -c.amount, c.person, None)],
            c.description,
            c.reviewer,
        )
        expected.validated += c.amount
        owed[c.person] += c.amount
        payable[c.person].append(c)

    for paid_at in pay_times:
        while position < len(validations) and (validations[position].decided or now) < paid_at:
            validate(validations[position])
            position += 1
        paid_on = paid_at.astimezone(paris()).date()
        cash = sum((a for day, a in cash_in if day <= paid_on), ZERO) - paid_euros
        for person in sorted(payable):
            due = payable[person]
            if not due or rng.random() < 0.15:
                continue  # not paid this month: the invoice has not come, or nobody asked
            total = owed[person]
            conversion = prefers.get(person)
            if conversion is None:
                if total > cash:
                    expected.cash_overdrawn += 1
                    continue
                invoice += 1
                reference = f"FAC-{paid_on:%Y%m}-{invoice:05d}"
                to_structure = person in structure_of and rng.random() < 0.6
                paid_to = structure_of[person] if to_structure else names[person]
                key = f"payout:euros:{budget_id}:{person}:{reference}"
                payouts.append(
                    f"{next_payout}\teuros\t{total:.2f}\t{paid_on}\t{reference}\t{text(paid_to)}\t{NULL}\t"
                    f"{text(key)}\t{stamp(paid_at)}\t{budget_id}\t{NULL}\t{manager}\t{NULL}\t{person}\n"
                )
                ledger.post(
                    key,
                    "payout_euros",
                    paid_at,
                    [("owed", total, person, None), ("cash", -total, None, None)],
                    paid_to,
                    manager,
                )
                cash -= total
                paid_euros += total
                expected.paid_euros += total
                paid = total
            else:
                conversion_id, type_id, venue, rate = conversion
                quantity = (total / rate / CREDIT_STEP).to_integral_value(rounding=ROUND_FLOOR) * CREDIT_STEP
                if quantity <= 0:
                    continue
                paid = (quantity * rate).quantize(CENT)
                ids = ",".join(str(c.pk) for c in sorted(due, key=lambda c: c.pk))
                key = f"payout:credit:{budget_id}:{person}:{hashlib.sha256(ids.encode()).hexdigest()[:24]}"
                expires_on = _add_months(paid_on, 12)
                lots.append(
                    f"{next_lot}\t{quantity:.2f}\t{quantity:.2f}\t{paid_on}\t{expires_on}\t{text(key)}\t"
                    f"{stamp(paid_at)}\t{person}\t{venue}\t{type_id}\n"
                )
                entries.append(
                    f"grant\t{quantity:.2f}\t{stamp(paid_at)}\t\tRétribution du budget contributif\t"
                    f"{next_lot}\n"
                )
                payouts.append(
                    f"{next_payout}\tcredit\t{paid:.2f}\t{paid_on}\t\t{text(names[person])}\t{quantity:.2f}\t"
                    f"{text(key)}\t{stamp(paid_at)}\t{budget_id}\t{conversion_id}\t{person}\t{next_lot}\t{person}\n"
                )
                ledger.post(
                    key,
                    "payout_credit",
                    paid_at,
                    [("owed", paid, person, None), ("credit_issued", -paid, None, venue)],
                    names[person],
                    person,
                )
                expected.credit_issued += paid
                next_lot += 1
            for c in due:
                c.status, c.payout = "paid", next_payout
            next_payout += 1
            owed[person] -= paid
            payable[person] = []
    while position < len(validations):
        validate(validations[position])
        position += 1
    # Lots before the payouts that point at them.
    copy_rows(
        conn,
        "memberships_creditlot",
        "id, granted, remaining, granted_on, expires_on, source_key, created_at, person_id, venue_id,"
        " credit_type_id",
        lots,
    )
    copy_rows(conn, "memberships_creditentry", "kind, quantity, at, reference, note, lot_id", entries)
    copy_rows(
        conn,
        "contributions_payout",
        "id, method, amount, paid_on, invoice_reference, paid_to, credit_quantity, key, created_at,"
        " budget_id, conversion_id, created_by_id, credit_lot_id, person_id",
        payouts,
    )
    expected.owed = {person: amount for person, amount in owed.items() if amount}
    return len(payouts), len(lots)


def _commitments(ledger: _Ledger) -> list[tuple[date, Decimal]]:
    """(day, amount) of the funding posted so far."""
    found = []
    for index, (_key, kind, at, _memo, _actor) in enumerate(ledger.transactions):
        if kind == "funding":
            amount = next(
                a for i, account, a, _p, _v in ledger.entries if i == index and account == "receivable"
            )
            found.append((at.astimezone(paris()).date(), amount))
    return found


def _write_contributions(
    conn: psycopg.Connection, contributions: list[_Contribution], budget_id: int
) -> None:
    rows, links, reviews = [], [], []
    for c in contributions:
        granted = c.amount if c.status in ("validated", "paid") else None
        validated_at = stamp(c.decided) if c.status in ("validated", "paid") and c.decided else NULL
        rows.append(
            f"{c.pk}\t{c.performed_on}\t{money(c.hours)}\t{c.kind}\t{text(c.description)}\t\t\t"
            f"{money(c.amount)}\t{money(granted)}\t{c.status}\t{validated_at}\t{NULL}\t{stamp(c.created)}\t"
            f"{budget_id}\t{c.person}\t{c.declared_by}\t"
            f"{NULL if c.payout is None else c.payout}\t{c.project}\n"
        )
        links.extend(f"{c.pk}\t{activity}\n" for activity in c.activities)
        if c.reviewer is not None and c.decided is not None:
            if c.status == "refused":
                verdict, message = "refuse", "Hors du périmètre du budget : à voir avec le collectif."
            else:
                verdict, message = "validate", ""
            reviews.append(f"{verdict}\t{message}\t{stamp(c.decided)}\t{c.pk}\t{c.reviewer}\n")
    copy_rows(
        conn,
        "contributions_contribution",
        "id, performed_on, hours, kind, description, evidence_url, evidence_file, amount_asked,"
        " amount_granted, status, validated_at, source_key, created_at, budget_id, contributor_id,"
        " declared_by_id, payout_id, project_id",
        rows,
    )
    copy_rows(conn, "contributions_contribution_activities", "contribution_id, activity_id", links)
    copy_rows(
        conn, "contributions_review", "verdict, message, created_at, contribution_id, reviewer_id", reviews
    )


def _write_tallies(
    conn: psycopg.Connection, contributions: list[_Contribution], budget_id: int
) -> dict[str, int]:
    """The public pages' hours tallies of the counted contributions, as the validations would have added
    them; rows written per table."""
    from lieux.contributions.rules import hours as hours_rules

    found = hours_rules.tally(
        hours_rules.Counted(c.project, budget_id, c.person, c.performed_on, c.hours, c.activities)
        for c in contributions
        if c.status in ("validated", "paid")
    )
    copy_rows(
        conn,
        "contributions_activityhours",
        "scope, scope_id, month, activity_key, hours",
        [
            f"{s}\t{i}\t{month}\t{key}\t{hours:.2f}\n"
            for (s, i, month, key), hours in found.activities.items()
        ],
    )
    copy_rows(
        conn,
        "contributions_personhours",
        "scope, scope_id, person_id, hours, contributions",
        [f"{s}\t{i}\t{person}\t{hours:.2f}\t{n}\n" for (s, i, person), (hours, n) in found.people.items()],
    )
    return {"hours by activity rows": len(found.activities), "hours by person rows": len(found.people)}


# --- verification -------------------------------------------------------------------------------------------


def verify_budget(url: str, data: BudgetData) -> list[str]:
    """Where the platform's reads disagree with what was generated; empty when they all agree."""
    from lieux.contributions.models import Budget
    from lieux.contributions.rules import ledger as ledger_rules
    from lieux.contributions.selectors import budgets as selectors
    from lieux.contributions.services import hours
    from lieux.contributions.services.ledger_days import days_from_entries, owed_from_entries

    budget = Budget.objects.select_related("venue").get(pk=data.budget_id)
    expected = data.expected
    problems = []
    from_entries = days_from_entries(budget)
    if from_entries != expected.days:
        differing = {
            k for k in set(from_entries) | set(expected.days) if from_entries.get(k) != expected.days.get(k)
        }
        problems.append(f"{len(differing)} ledger day rows differ from the entries summed by day")
    if selectors.ledger_balances(budget) != {k: v for k, v in selectors.entry_balances(budget).items()}:
        problems.append("balances from the day rows differ from the entries")
    figures = selectors.budget_figures(budget)
    wanted = {
        "committed": expected.committed,
        "received": expected.received,
        "validated": expected.validated,
        "paid_euros": expected.paid_euros,
        "credit_issued": expected.credit_issued,
        "pending_count": expected.pending_count,
        "pending_amount": expected.pending_amount,
        "owed": sum(expected.owed.values(), ZERO),
    }
    for name, value in wanted.items():
        if getattr(figures, name) != value:
            problems.append(f"{name}: the page reads {getattr(figures, name)}, the generator wrote {value}")
    if broken := ledger_rules.inconsistencies(selectors.ledger_balances(budget), figures):
        problems.append(f"ledger identities broken: {broken}")
    if not selectors.owed_by_person(budget) == owed_from_entries(budget) == expected.owed:
        problems.append("what is owed per person differs (rows, entries and generator)")
    scopes = [("budget", budget.pk)] + [
        ("project", pk) for pk in set(budget.contributions.values_list("project_id", flat=True))
    ]
    if astray := [scope for scope in scopes if hours.stored(*scope) != hours.recount(*scope)]:
        problems.append(f"hours tallies differ from the contributions recounted: {astray}")
    if expected.envelope_overdrawn:
        problems.append(
            f"{expected.envelope_overdrawn} validations passed the envelope committed at the time"
        )
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        unbalanced = one(
            conn,
            "SELECT count(*) FROM (SELECT transaction_id FROM contributions_ledgerentry WHERE budget_id = %s"
            " GROUP BY transaction_id HAVING sum(amount) <> 0) AS t",
            [data.budget_id],
        )[0]
        if unbalanced:
            problems.append(f"{unbalanced} ledger transactions whose entries do not sum to zero")
        paid_rows = one(
            conn,
            "SELECT count(*) FROM contributions_contribution c"
            " JOIN contributions_payout p ON p.id = c.payout_id"
            " WHERE c.budget_id = %s AND (c.status <> 'paid' OR p.person_id <> c.contributor_id)",
            [data.budget_id],
        )[0]
        if paid_rows:
            problems.append(
                f"{paid_rows} paid contributions that are not their payout's person's, or not paid"
            )
    return problems
