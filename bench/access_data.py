"""The door-access data set: people with a badge and a QR identity, a member plan and a Pass Interlieux plan
per venue, their subscriptions, and one registered door device per venue of the bench network.

People (50 per venue, one account each, a home venue each) are written once by `COPY` and kept across runs.
Everything else is rewritten before every run and removed after it — plans, network accesses, host venues,
subscriptions, pass holders, badges, devices, and what the checks wrote (visits, access audit rows, used
tokens, anomaly events) — so the billing bench, which empties the plans and subscriptions, finds nothing of
this bench in its way.

40 % of the people hold the venue's pass plan: a `NetworkAccess` valid at their home venue and at eleven
other venues of the network, every day, 8 days a month per host venue; the others hold the member plan,
valid at their home venue only. Badge UIDs are 14 hexadecimal digits starting with `04`, all distinct by
construction; the bench's unknown badges start with `05`, so none of them is ever registered.
"""

import random
import secrets
import time
from dataclasses import dataclass
from datetime import date, timedelta

import psycopg

PEOPLE_PER_VENUE = 50
PASS_SHARE = 0.4
HOSTS_PER_PASS = 11  # besides the home venue
DAYS_PER_MONTH = 8
ACCESS_DOMAIN = "acces.banc.lieux-communs.test"
MEMBER_PLAN = "banc-acces-membre"
PASS_PLAN = "banc-acces-pass"
DEVICE_NAME = "Porte du banc d'essai"
# The bench's QR tokens carry this jti prefix, so the used-token rows they leave are found and removed.
JTI_PREFIX = "banc-"
# An odd multiplier is a bijection modulo 2**48: person n's UID never collides with another's.
_UID_MULTIPLIER = 0x9E3779B97F4B
_UID_MASK = (1 << 48) - 1
NULL = "\\N"


@dataclass(frozen=True)
class Person:
    pk: int
    first_name: str
    home_venue_id: int
    uid: str
    public_id: str
    # Host venues of the person's pass other than home; empty for a member-plan subscriber.
    hosts: tuple[int, ...]


@dataclass(frozen=True)
class Door:
    device_id: int
    venue_id: int
    venue_slug: str
    token: str  # the raw device token, as printed once when a door is registered


@dataclass(frozen=True)
class AccessData:
    network_id: int
    day: date  # the venues' local day of the run: subscriptions are in force on it
    people: list[Person]
    doors: dict[int, Door]  # venue id → its door
    seconds: float

    @property
    def pass_holders(self) -> list[Person]:
        return [p for p in self.people if p.hosts]


def log(message: str) -> None:
    print(f"  [access data] {message}", flush=True)


def badge_uid(n: int) -> str:
    return f"04{(n * _UID_MULTIPLIER) & _UID_MASK:012X}"


def clean(conn: psycopg.Connection) -> dict[str, int]:
    """Remove every row this bench writes, people's accounts excepted; rows removed per table."""
    people = "SELECT id FROM accounts_user WHERE email LIKE %(people)s"
    devices = "SELECT id FROM interlieux_doordevice WHERE name = %(device)s"
    plans = "SELECT id FROM memberships_plan WHERE slug IN (%(member)s, %(pass)s)"
    accesses = f"SELECT id FROM interlieux_networkaccess WHERE plan_id IN ({plans})"
    badges = f"SELECT id::text FROM interlieux_badge WHERE person_id IN ({people})"
    statements = [
        ("anomaly events", f"DELETE FROM core_auditevent WHERE object_type = 'interlieux.badge' "
                           f"AND object_id IN ({badges})"),
        ("access audit rows", f"DELETE FROM interlieux_accessaudit WHERE device_id IN ({devices})"),
        ("offline passages", f"DELETE FROM interlieux_offlinepassage WHERE device_id IN ({devices})"),
        ("visits", f"DELETE FROM interlieux_visit WHERE person_id IN ({people})"),
        ("used tokens", "DELETE FROM interlieux_usedtoken WHERE jti LIKE %(jti)s"),
        ("devices", f"DELETE FROM interlieux_doordevice WHERE id IN ({devices})"),
        ("badges", f"DELETE FROM interlieux_badge WHERE person_id IN ({people})"),
        ("pass holders", f"DELETE FROM interlieux_passholder WHERE person_id IN ({people})"),
        ("subscriptions", f"DELETE FROM memberships_subscription WHERE plan_id IN ({plans})"),
        ("host venues", f"DELETE FROM interlieux_networkaccess_host_venues "
                        f"WHERE networkaccess_id IN ({accesses})"),
        ("network accesses", f"DELETE FROM interlieux_networkaccess WHERE id IN ({accesses})"),
        ("plans", f"DELETE FROM memberships_plan WHERE id IN ({plans})"),
    ]  # fmt: skip
    params = {
        "people": f"%@{ACCESS_DOMAIN}",
        "device": DEVICE_NAME,
        "member": MEMBER_PLAN,
        "pass": PASS_PLAN,
        "jti": f"{JTI_PREFIX}%",
    }
    removed = {}
    with conn.transaction():
        for label, statement in statements:
            removed[label] = conn.execute(statement, params).rowcount
    return removed


def one(conn: psycopg.Connection, query: str, params: list) -> tuple:
    """The single row `query` returns."""
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return row


def _ensure_people(conn: psycopg.Connection, count: int) -> list[tuple[int, str]]:
    """(id, first name) of `count` accounts, written by COPY the first time (and when more are needed)."""
    have = one(conn, "SELECT count(*) FROM accounts_user WHERE email LIKE %s", [f"%@{ACCESS_DOMAIN}"])[0]
    if have < count:
        step = time.perf_counter()
        columns = (
            "password, is_superuser, email, first_name, last_name, phone, language, is_active, is_staff, "
            "date_joined, address"
        )
        with conn.transaction(), conn.cursor().copy(f"COPY accounts_user ({columns}) FROM STDIN") as copy:
            copy.write(
                "".join(
                    f"!\tf\tporteur{n}@{ACCESS_DOMAIN}\tCamille{n}\tBadge{n}\t\tfr\tt\tf\t"
                    f"2025-01-01 09:00:00+00\t\n"
                    for n in range(have, count)
                )
            )
        log(f"{count - have:,} accounts written in {time.perf_counter() - step:.1f}s")
    # Accounts in creation order, so that person n is the same account at every run.
    return [
        (row[0], row[1])
        for row in conn.execute(
            "SELECT id, first_name FROM accounts_user WHERE email LIKE %s ORDER BY id LIMIT %s",
            [f"%@{ACCESS_DOMAIN}", count],
        )
    ]


def _copy(conn: psycopg.Connection, table: str, columns: str, rows: list[str]) -> None:
    with conn.cursor().copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for start in range(0, len(rows), 20_000):
            copy.write("".join(rows[start : start + 20_000]))


def prepare(url: str, *, network_id: int, day: date, seed: int) -> AccessData:
    """Clean what an earlier run left, then write plans, subscriptions, badges and doors for `day`."""
    from lieux.interlieux.services.devices import TOKEN_PREFIX, token_digest

    started = time.perf_counter()
    rng = random.Random(seed)
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        clean(conn)
        venues = conn.execute(
            "SELECT id, slug FROM venues_venue WHERE network_id = %s ORDER BY id", [network_id]
        ).fetchall()
        if len(venues) < HOSTS_PER_PASS + 1:
            raise SystemExit("the bench network has too few venues: generate the data set first")
        venue_ids = [pk for pk, _slug in venues]
        accounts = _ensure_people(conn, PEOPLE_PER_VENUE * len(venues))
        stamp = f"{day - timedelta(days=90)} 09:00:00+00"
        first_of_month = day.replace(day=1)
        next_month = date(first_of_month.year + first_of_month.month // 12, first_of_month.month % 12 + 1, 1)
        with conn.transaction():
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO memberships_plan (venue_id, slug, name, description, kind, interval,"
                    " vat_rate, trial_days, commitment_months, notice_days, proration, desk_mode,"
                    " members_only, is_active, created_at)"
                    " VALUES (%s, %s, %s, '', 'subscription', 'month', 20, 0, 0, 30, 'none', 'none', false,"
                    " true, %s)",
                    [
                        (pk, slug, name, stamp)
                        for pk in venue_ids
                        for slug, name in ((MEMBER_PLAN, "Coworking"), (PASS_PLAN, "Pass Interlieux"))
                    ],
                )
            plan_of = {
                (venue, slug): pk
                for pk, venue, slug in conn.execute(
                    "SELECT id, venue_id, slug FROM memberships_plan WHERE slug IN (%s, %s)",
                    [MEMBER_PLAN, PASS_PLAN],
                )
            }
            conn.execute(
                "INSERT INTO interlieux_networkaccess (plan_id, weekdays, days_per_month,"
                " booking_discount_percent, partner_bookings_use_credits, created_at)"
                " SELECT id, '0123456', %s, 0, false, %s FROM memberships_plan WHERE slug = %s",
                [DAYS_PER_MONTH, stamp, PASS_PLAN],
            )
            access_of: dict[int, int] = dict(
                conn.execute(
                    "SELECT p.venue_id, a.id FROM interlieux_networkaccess a"
                    " JOIN memberships_plan p ON p.id = a.plan_id WHERE p.slug = %s",
                    [PASS_PLAN],
                ).fetchall()
            )
            hosts_of = {
                venue: tuple(rng.sample([v for v in venue_ids if v != venue], HOSTS_PER_PASS))
                for venue in venue_ids
            }
            _copy(
                conn,
                "interlieux_networkaccess_host_venues",
                "networkaccess_id, venue_id",
                [
                    f"{access_of[venue]}\t{host}\n"
                    for venue in venue_ids
                    for host in (venue, *hosts_of[venue])
                ],
            )

            people: list[Person] = []
            subscriptions, badges, holders = [], [], []
            for n, (pk, first_name) in enumerate(accounts):
                home = venue_ids[n % len(venue_ids)]
                holds_pass = rng.random() < PASS_SHARE
                person = Person(
                    pk=pk,
                    first_name=first_name,
                    home_venue_id=home,
                    uid=badge_uid(n),
                    public_id=secrets.token_urlsafe(12),
                    hosts=hosts_of[home] if holds_pass else (),
                )
                people.append(person)
                plan = plan_of[(home, PASS_PLAN if holds_pass else MEMBER_PLAN)]
                started_on = day - timedelta(days=60 + n % 300)
                subscriptions.append(
                    f"active\t{started_on}\t{NULL}\t{first_of_month}\t{next_month - timedelta(days=1)}\t"
                    f"{NULL}\t{NULL}\t{NULL}\t{stamp}\t{stamp}\t{NULL}\t{pk}\t{NULL}\t{NULL}\t{plan}\t{home}\t"
                    f"{started_on}\n"
                )
                badges.append(f"{person.uid}\t{pk}\t{home}\t\t{stamp}\t{NULL}\n")
                holders.append(f"{person.public_id}\t{stamp}\t{pk}\n")
            _copy(
                conn,
                "memberships_subscription",
                "status, started_on, trial_ends_on, current_period_start, current_period_end,"
                " commitment_ends_on, ends_on, paused_on, created_at, updated_at, desk_id, member_id,"
                " next_plan_id, payer_organisation_id, plan_id, venue_id, billing_anchor_on",
                subscriptions,
            )
            _copy(
                conn,
                "interlieux_badge",
                "uid, person_id, issued_by_id, label, issued_at, revoked_at",
                badges,
            )
            _copy(conn, "interlieux_passholder", "public_id, created_at, person_id", holders)

            tokens = {pk: TOKEN_PREFIX + secrets.token_urlsafe(32) for pk in venue_ids}
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO interlieux_doordevice (venue_id, name, token_digest, token_hint, created_at)"
                    " VALUES (%s, %s, %s, %s, %s)",
                    [(pk, DEVICE_NAME, token_digest(raw), raw[:8], stamp) for pk, raw in tokens.items()],
                )
            slug_of: dict[int, str] = dict(venues)
            doors = {
                venue: Door(device_id=device, venue_id=venue, venue_slug=slug_of[venue], token=tokens[venue])
                for device, venue in conn.execute(
                    "SELECT id, venue_id FROM interlieux_doordevice WHERE name = %s", [DEVICE_NAME]
                )
            }
        for table in (
            "memberships_subscription",
            "interlieux_badge",
            "interlieux_passholder",
            "interlieux_networkaccess_host_venues",
            "interlieux_doordevice",
        ):
            conn.execute(f"VACUUM (ANALYZE) {table}")
    seconds = time.perf_counter() - started
    holders_count = sum(1 for p in people if p.hosts)
    log(
        f"{len(people):,} people over {len(venue_ids)} venues ({holders_count:,} with a pass valid at "
        f"{HOSTS_PER_PASS + 1} venues, the others members of their venue), one badge and one door per venue; "
        f"written in {seconds:.1f}s"
    )
    return AccessData(network_id=network_id, day=day, people=people, doors=doors, seconds=seconds)
