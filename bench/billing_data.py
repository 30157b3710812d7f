"""The billing data set: monthly plans for every venue of the bench network and active subscriptions whose
next period starts in the current month, so that one billing run issues one invoice per subscription.

Subscribers (one account each) and paying organisations are written once and kept. Plans, price steps and
subscriptions are rewritten by COPY before every run, after the billing tables are emptied: a billing run
consumes its data (periods move on, invoices are issued and can no longer be deleted row by row — the
database refuses it — so they are truncated, which the immutability triggers do not cover). Nothing
outside the billing and subscription tables is touched; the truncation refuses to run if it would cascade
anywhere else.
"""

import random
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
from stdnum import luhn

from bench.generate import TZ_NAME

FULL_SUBSCRIPTIONS = 100_000
SUBSCRIBER_DOMAIN = "abonnes.banc.lieux-communs.test"
ORGANISATION_SHARE = 0.1  # subscriptions paid by an organisation (a business buyer on the invoice)
ORGANISATIONS_PER_VENUE = 3
NULL = "\\N"

# (slug, name, monthly price excl. VAT, members only, an earlier solidarity step) for every venue.
PLANS = [
    ("coworking-flexible", "Coworking flexible", "180.00", False, False),
    ("coworking-mi-temps", "Coworking mi-temps", "110.00", False, False),
    ("residence", "Résidence associative", "240.00", True, False),
    ("tarif-solidaire", "Coworking tarif solidaire", "120.00", False, True),
]
PLAN_WEIGHTS = [5, 3, 1, 1]
# Venue VAT regimes: a billing run sees every French regime a tiers-lieu may have.
VAT_STATUSES = ["liable", "liable", "franchise", "exempt_members", "not_liable"]

# Tables a billing run writes, emptied before each run; the truncation may reach these and no others.
RESET_TABLES = (
    "billing_invoice",
    "billing_invoiceseries",
    "memberships_subscriptionevent",
    "memberships_subscriptioninvoice",
)
# Clearing transfers between venues point at the invoices they settle: emptied with them.
CASCADE_ALLOWED_PREFIXES = ("billing_", "memberships_subscriptioninvoice", "memberships_subscriptionevent",
                            "booking_bookinginvoice", "memberships_creditentry",
                            "clearing_transfer")  # fmt: skip


@dataclass(frozen=True)
class BillingData:
    subscriptions: int
    venues: int
    plans: int
    organisation_paid: int
    period: date  # first day of the month billed
    as_of: date  # the venues' today: the run bills periods started on or before it
    seconds: float


def log(message: str) -> None:
    print(f"  [billing data] {message}", flush=True)


def paris_today() -> date:
    return datetime.now(ZoneInfo(TZ_NAME)).date()


def subscriptions_at(scale: float) -> int:
    return max(100, round(FULL_SUBSCRIPTIONS * scale))


def prepare(url: str, *, scale: float, seed: int) -> BillingData:
    """Empty the billing tables and write fresh plans and subscriptions (subscribers kept across runs)."""
    started = time.perf_counter()
    count = subscriptions_at(scale)
    rng = random.Random(seed)
    as_of = paris_today()
    with psycopg.connect(url, autocommit=True) as conn:
        venues = [row[0] for row in conn.execute("SELECT id FROM venues_venue ORDER BY id").fetchall()]
        if not venues:
            raise SystemExit("The bench network has no venues: generate the data set first.")
        reset(conn)
        subscribers = _ensure_subscribers(conn, count)
        organisations = _ensure_organisations(conn, rng, venues)
        with conn.transaction():
            for n, venue_id in enumerate(venues):
                conn.execute(
                    "UPDATE venues_venue SET vat_status = %s WHERE id = %s",
                    [VAT_STATUSES[n % len(VAT_STATUSES)], venue_id],
                )
            plans = _write_plans(conn, venues, as_of)
            paid_by_org = _write_subscriptions(
                conn, rng, count, venues, plans, subscribers, organisations, as_of
            )
        for table in ("memberships_plan", "memberships_planprice", "memberships_subscription"):
            conn.execute(f"VACUUM (ANALYZE) {table}")
    seconds = time.perf_counter() - started
    log(
        f"{count:,} active monthly subscriptions ({paid_by_org:,} paid by an organisation) over "
        f"{len(venues)} venues, {len(PLANS) * len(venues)} plans, written in {seconds:.1f}s"
    )
    return BillingData(
        subscriptions=count,
        venues=len(venues),
        plans=sum(len(ids) for ids in plans.values()),
        organisation_paid=paid_by_org,
        period=as_of.replace(day=1),
        as_of=as_of,
        seconds=seconds,
    )


def cascade_of(conn: psycopg.Connection, tables: tuple[str, ...]) -> set[str]:
    """Every table a TRUNCATE … CASCADE of `tables` would empty."""
    rows = conn.execute(
        """WITH RECURSIVE reached(rel) AS (
               SELECT unnest(%s::regclass[])
               UNION
               SELECT c.conrelid::regclass FROM pg_constraint c JOIN reached r ON c.confrelid = r.rel
               WHERE c.contype = 'f')
           SELECT rel::text FROM reached""",
        [list(tables)],
    ).fetchall()
    return {row[0] for row in rows}


def reset(conn: psycopg.Connection) -> None:
    """Remove the previous run's invoices, periods and subscriptions."""
    reached = cascade_of(conn, RESET_TABLES)
    outside = sorted(t for t in reached if not t.startswith(CASCADE_ALLOWED_PREFIXES))
    if outside:
        raise SystemExit(f"Emptying the billing tables would also empty {outside}; refusing.")
    with conn.transaction():
        conn.execute(f"TRUNCATE {', '.join(sorted(reached))} RESTART IDENTITY")
        conn.execute("UPDATE billing_billingprofile SET chain_head = ''")
        conn.execute(
            "DELETE FROM core_auditevent WHERE action LIKE 'billing.%' OR action LIKE 'memberships.%'"
        )
        # Bookings may point at a subscription (fixed desks); the generated ones never do.
        conn.execute("DELETE FROM memberships_subscription")
        conn.execute("DELETE FROM memberships_planprice")
        conn.execute("DELETE FROM memberships_creditgrant")
        conn.execute("DELETE FROM memberships_plan")


def _ensure_subscribers(conn: psycopg.Connection, count: int) -> list[int]:
    """`count` subscriber accounts, written by COPY the first time (and when a larger scale needs more)."""
    have = conn.execute(
        "SELECT count(*) FROM accounts_user WHERE email LIKE %s", [f"%@{SUBSCRIBER_DOMAIN}"]
    ).fetchone()[0]
    if have < count:
        step = time.perf_counter()
        columns = (
            "password, is_superuser, email, first_name, last_name, phone, language, is_active, is_staff, "
            "date_joined, address"
        )
        with conn.transaction(), conn.cursor().copy(f"COPY accounts_user ({columns}) FROM STDIN") as copy:
            copy.write(
                "".join(
                    f"!\tf\tabonne{n}@{SUBSCRIBER_DOMAIN}\tPrénom{n}\tNom{n}\t\tfr\tt\tf\t"
                    f"2025-01-01 09:00:00+00\t{n % 200 + 1} rue des Abonnés\\n59000 Lille\n"
                    for n in range(have, count)
                )
            )
        log(f"{count - have:,} subscriber accounts written in {time.perf_counter() - step:.1f}s")
    rows = conn.execute(
        "SELECT id FROM accounts_user WHERE email LIKE %s ORDER BY id LIMIT %s",
        [f"%@{SUBSCRIBER_DOMAIN}", count],
    ).fetchall()
    return [row[0] for row in rows]


def _siren(rng: random.Random) -> str:
    body = str(rng.randrange(10_000_000, 99_999_999))
    return body + luhn.calc_check_digit(body)


def _ensure_organisations(conn: psycopg.Connection, rng: random.Random, venues: list[int]) -> list[int]:
    """A few paying organisations per venue (companies and associations with a SIREN)."""
    wanted = ORGANISATIONS_PER_VENUE * len(venues)
    marker = f"@{SUBSCRIBER_DOMAIN}"
    have = conn.execute(
        "SELECT count(*) FROM accounts_organisation WHERE billing_email LIKE %s", [f"%{marker}"]
    ).fetchone()[0]
    if have < wanted:
        with conn.transaction(), conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO accounts_organisation (name, siren, vat_number, billing_email, address)"
                " VALUES (%s, %s, '', %s, %s)",
                [
                    (f"Coopérative {n}", _siren(rng), f"compta{n}{marker}", f"{n} avenue du Travail, Lille")
                    for n in range(have, wanted)
                ],
            )
    rows = conn.execute(
        "SELECT id FROM accounts_organisation WHERE billing_email LIKE %s ORDER BY id LIMIT %s",
        [f"%{marker}", wanted],
    ).fetchall()
    return [row[0] for row in rows]


def _write_plans(conn: psycopg.Connection, venues: list[int], as_of: date) -> dict[int, list[int]]:
    """Four monthly plans per venue; the solidarity plan has an older, lower step before today's price.
    Returns plan ids per venue, in PLANS order."""
    created = "2024-01-01 09:00:00+00"
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO memberships_plan (venue_id, slug, name, description, kind, interval, vat_rate,"
            " trial_days, commitment_months, notice_days, proration, desk_mode, members_only, is_active,"
            " created_at) VALUES (%s, %s, %s, '', 'subscription', 'month', 20, 0, 0, 30, 'none',"
            " 'flexible', %s, true, %s)",
            [(v, slug, name, members, created) for v in venues for slug, name, _p, members, _s in PLANS],
        )
    rows = conn.execute("SELECT id, venue_id, slug FROM memberships_plan ORDER BY id").fetchall()
    by_slug = {(venue_id, slug): pk for pk, venue_id, slug in rows}
    prices = []
    for venue_id in venues:
        for slug, _name, price, _members, solidarity in PLANS:
            plan = by_slug[(venue_id, slug)]
            if solidarity:
                prices.append((plan, date(2024, 1, 1), "90.00", "tarif de lancement"))
                prices.append((plan, as_of.replace(day=1) - timedelta(days=200), price, ""))
            else:
                prices.append((plan, date(2024, 1, 1), price, ""))
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO memberships_planprice (plan_id, starts_on, net_amount, label)"
            " VALUES (%s, %s, %s, %s)",
            prices,
        )
    return {v: [by_slug[(v, slug)] for slug, *_rest in PLANS] for v in venues}


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, day.day)


def _write_subscriptions(
    conn: psycopg.Connection,
    rng: random.Random,
    count: int,
    venues: list[int],
    plans: dict[int, list[int]],
    subscribers: list[int],
    organisations: list[int],
    as_of: date,
) -> int:
    """Active monthly subscriptions anchored on a day of the month already reached (up to the 28th), from
    one to thirty months ago, whose current period is the one before this month's: the run renews each
    into this month's period and invoices it."""
    columns = (
        "status, started_on, trial_ends_on, current_period_start, current_period_end, commitment_ends_on,"
        " ends_on, paused_on, created_at, updated_at, desk_id, member_id, next_plan_id,"
        " payer_organisation_id, plan_id, venue_id, billing_anchor_on"
    )
    last_anchor_day = min(as_of.day, 28)
    month_start = as_of.replace(day=1)
    paid_by_org = 0
    step = time.perf_counter()
    lines = []
    for n in range(count):
        venue_index = n * len(venues) // count  # equal shares, venues in id order
        venue_id = venues[venue_index]
        plan = rng.choices(plans[venue_id], weights=PLAN_WEIGHTS)[0]
        day = rng.randint(1, last_anchor_day)
        anchor = _add_months(month_start.replace(day=day), -rng.randint(1, 30))
        this_period = month_start.replace(day=day)
        current_start = _add_months(this_period, -1)
        current_end = this_period - timedelta(days=1)
        payer = NULL
        if rng.random() < ORGANISATION_SHARE:
            payer = str(organisations[venue_index * ORGANISATIONS_PER_VENUE + rng.randrange(3)])
            paid_by_org += 1
        stamp = f"{anchor:%Y-%m-%d} 10:00:00+00"
        lines.append(
            f"active\t{anchor}\t{NULL}\t{current_start}\t{current_end}\t{NULL}\t{NULL}\t{NULL}\t{stamp}\t"
            f"{stamp}\t{NULL}\t{subscribers[n]}\t{NULL}\t{payer}\t{plan}\t{venue_id}\t{anchor}\n"
        )
    with conn.cursor().copy(f"COPY memberships_subscription ({columns}) FROM STDIN") as copy:
        for start in range(0, len(lines), 10_000):
            copy.write("".join(lines[start : start + 10_000]))
    log(f"{count:,} subscriptions copied in {time.perf_counter() - step:.1f}s")
    return paid_by_org
