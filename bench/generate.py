"""The bench data set: a network of venues in French cities, their resources and a year of bookings.

Venues, resources, prices and people are few (thousands): Django's bulk_create writes them. Bookings are
many (a million at full scale): Python formats COPY text rows and PostgreSQL derives the Occupancy rows
itself with one INSERT … SELECT, inside one transaction that drops the two tables' secondary indexes and
constraints first and rebuilds them at the end — rebuilding the exclusion constraint re-checks every
active interval, so the data set is proven free of overlaps before it is committed.

Bookings never overlap by construction: a venue's open days are cut into two-hour cells, each booking
sits inside one cell of its resource, no cell is used twice, and a hall's cells are disjoint from its
sub-rooms' cells. A marker table records what was generated so that later runs reuse it.
"""

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from decimal import Decimal
from zoneinfo import ZoneInfo

import psycopg
from stdnum import luhn

RESOURCES_PER_VENUE = 20
FULL_VENUES = 300
FULL_BOOKINGS = 1_000_000
FULL_PEOPLE = 5_000
DAYS = 365
TZ_NAME = "Europe/Paris"

# (city, postcode, weight): larger cities hold more venues, so a city search meets very different sizes.
CITIES = [
    ("Paris", "75011", 12), ("Lyon", "69007", 6), ("Lille", "59000", 6), ("Marseille", "13001", 5),
    ("Toulouse", "31000", 5), ("Nantes", "44000", 5), ("Bordeaux", "33000", 5), ("Montpellier", "34000", 4),
    ("Strasbourg", "67000", 4), ("Rennes", "35000", 4), ("Grenoble", "38000", 3), ("Roubaix", "59100", 3),
    ("Nice", "06000", 3), ("Saint-Étienne", "42000", 2), ("Dijon", "21000", 2), ("Angers", "49000", 2),
    ("Tours", "37000", 2), ("Clermont-Ferrand", "63000", 2), ("Rouen", "76000", 2), ("Metz", "57000", 2),
    ("Nancy", "54000", 2), ("Caen", "14000", 2), ("Brest", "29200", 2), ("Le Havre", "76600", 1),
    ("Reims", "51100", 1), ("Toulon", "83000", 1), ("Le Mans", "72000", 1), ("Aix-en-Provence", "13100", 1),
    ("Amiens", "80000", 1), ("Limoges", "87000", 1), ("Nîmes", "30000", 1), ("Perpignan", "66000", 1),
    ("Besançon", "25000", 1), ("Orléans", "45000", 1), ("Mulhouse", "68100", 1), ("Poitiers", "86000", 1),
    ("Annecy", "74000", 1), ("Tourcoing", "59200", 1), ("Mons-en-Barœul", "59370", 1), ("Arras", "62000", 1),
    ("Villeneuve-d'Ascq", "59650", 1), ("Dunkerque", "59140", 1), ("Valenciennes", "59300", 1),
]  # fmt: skip
VENUE_NAMES = [
    "La Fabrique", "Le Hangar", "La Ruche", "L'Atelier", "La Friche", "Le Quai", "La Base", "Le Local",
    "La Coroutine", "Le Bocal", "La Serre", "Le Phare", "La Cordée", "Le Moulin", "La Verrière", "Le Relais",
]  # fmt: skip
TITLES = [
    "Réunion d'équipe", "Atelier couture", "Formation", "Permanence", "Répétition", "Assemblée générale",
    "Coworking", "Entretien", "Atelier vélo", "Repair café", "Conférence", "Cours de yoga", "Bureau du CA",
]  # fmt: skip
ROOMS = [
    "Salle Ada",
    "Salle Jaurès",
    "Salle Louise Michel",
    "Salle Olympe",
    "Salle Hopper",
    "Salle Curie",
    "Salle Zola",
]
EQUIPMENT = ["Vidéoprojecteur", "Imprimante 3D", "Découpeuse laser", "Kit sono"]

# Opening hours (weekday → windows) and the two-hour cells bookings are placed in (start hours).
WEEK_FULL = {d: [(8, 20)] for d in range(5)}
WEEK_LUNCH = {d: [(8, 12), (14, 20)] for d in range(5)}
WEEK_SATURDAY = {**WEEK_FULL, 5: [(10, 18)]}
TEMPLATES = [WEEK_FULL, WEEK_LUNCH, WEEK_SATURDAY]
CELL_STARTS = (8, 10, 14, 16, 18)
# (offset, duration) in minutes inside a two-hour cell, with their weights.
SHAPES = [((0, 120), 4), ((0, 90), 2), ((30, 90), 2), ((0, 60), 2), ((30, 60), 1), ((60, 60), 1)]
HALL_PARTS = ("Halle nord", "Halle sud")
ROOM_CAPACITIES = [4, 6, 8, 10, 12, 16, 20, 24, 30]
HOURLY_CENTS = {"room": 2500, "hall": 6000, "part": 3500, "desk": 300, "equipment": 1000}
KIND_WEIGHT = {"room": 1.6, "hall": 0.8, "part": 1.2, "desk": 1.0, "equipment": 0.5}

NULL = "\\N"  # COPY's text format for NULL
BOOKING_COLUMNS = (
    "id, title, notes, starts_at, ends_at, status, hold_expires_at, quoted_net_amount, created_at, "
    "updated_at, cancelled_at, status_reason, booked_by_id, organisation_id, series_id, resource_id, "
    "venue_id, credits_used"
)


@dataclass(frozen=True)
class Size:
    scale: float
    venues: int
    bookings: int
    people: int

    @classmethod
    def at(cls, scale: float) -> "Size":
        return cls(
            scale=scale,
            venues=max(3, round(FULL_VENUES * scale)),
            bookings=max(100, round(FULL_BOOKINGS * scale)),
            people=max(50, round(FULL_PEOPLE * scale)),
        )

    @property
    def resources(self) -> int:
        return self.venues * RESOURCES_PER_VENUE


@dataclass(frozen=True)
class Dataset:
    scale: float
    seed: int
    venues: int
    resources: int
    bookings: int
    occupancies: int
    first_day: date
    days: int
    seconds: float
    reused: bool

    @property
    def last_day(self) -> date:
        return self.first_day + timedelta(days=self.days - 1)


MARKER_DDL = """
CREATE TABLE IF NOT EXISTS bench_dataset (
    id integer PRIMARY KEY CHECK (id = 1),
    state text NOT NULL,
    scale double precision NOT NULL,
    seed integer NOT NULL,
    venues integer NOT NULL DEFAULT 0,
    resources integer NOT NULL DEFAULT 0,
    bookings bigint NOT NULL DEFAULT 0,
    occupancies bigint NOT NULL DEFAULT 0,
    first_day date NOT NULL,
    days integer NOT NULL,
    seconds double precision NOT NULL DEFAULT 0,
    generated_at timestamptz NOT NULL DEFAULT now()
)"""


def log(message: str) -> None:
    print(f"  [generate] {message}", flush=True)


def ensure_dataset(url: str, *, scale: float, seed: int, force: bool = False) -> Dataset:
    """Reuse the data set already in the database when it has the requested size, else build it."""
    size = Size.at(scale)
    with psycopg.connect(url, autocommit=True) as conn:
        existing = _marker(conn)
        if (
            not force
            and existing is not None
            and existing["state"] == "ready"
            and existing["scale"] == scale
            and existing["seed"] == seed
            and _count(conn, "venues_venue") == existing["venues"]
        ):
            log(f"reusing the data set at scale {scale:g} ({existing['bookings']:,} bookings)")
            return _dataset(existing, reused=True)
        if existing is None and _count(conn, "venues_venue"):
            raise SystemExit(
                "The bench database holds venues the bench did not create; refusing to overwrite it. "
                "Point BENCH_DATABASE_URL at a database of its own."
            )
        first_day = date.today() - timedelta(days=DAYS // 2)
        conn.execute(MARKER_DDL)
        conn.execute(
            "INSERT INTO bench_dataset (id, state, scale, seed, first_day, days)"
            " VALUES (1, 'generating', %s, %s, %s, %s) ON CONFLICT (id) DO UPDATE SET state = 'generating',"
            " scale = EXCLUDED.scale, seed = EXCLUDED.seed, first_day = EXCLUDED.first_day,"
            " days = EXCLUDED.days",
            [scale, seed, first_day, DAYS],
        )
        started = time.perf_counter()
        log(
            f"building scale {scale:g}: {size.venues} venues, {size.resources:,} resources, "
            f"{size.bookings:,} bookings, {DAYS} days from {first_day}"
        )
        _wipe(conn)
        rng = random.Random(seed)
        network = _build_network(rng, size, first_day)
        log(f"network written in {time.perf_counter() - started:.1f}s")
        occupancies = _write_bookings(conn, rng, size, network, first_day)
        seconds = time.perf_counter() - started
        conn.execute(
            "UPDATE bench_dataset SET state = 'ready', venues = %s, resources = %s, bookings = %s, "
            "occupancies = %s, seconds = %s, generated_at = now() WHERE id = 1",
            [size.venues, size.resources, size.bookings, occupancies, seconds],
        )
        log(f"done in {seconds:.1f}s")
        return _dataset(_marker(conn), reused=False)


def _marker(conn: psycopg.Connection) -> dict | None:
    if conn.execute("SELECT to_regclass('bench_dataset')").fetchone()[0] is None:
        return None
    cur = conn.cursor(row_factory=psycopg.rows.dict_row)
    return cur.execute("SELECT * FROM bench_dataset WHERE id = 1").fetchone()


def _dataset(row: dict, *, reused: bool) -> Dataset:
    return Dataset(
        scale=row["scale"],
        seed=row["seed"],
        venues=row["venues"],
        resources=row["resources"],
        bookings=row["bookings"],
        occupancies=row["occupancies"],
        first_day=row["first_day"],
        days=row["days"],
        seconds=row["seconds"],
        reused=reused,
    )


def _count(conn: psycopg.Connection, table: str) -> int:
    return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def _wipe(conn: psycopg.Connection) -> None:
    """Empty the platform's tables of this (bench-owned) database; CASCADE reaches every dependent table."""
    conn.execute(
        "TRUNCATE accounts_user, accounts_organisation, venues_network, core_auditevent"
        " RESTART IDENTITY CASCADE"
    )
    conn.execute("DROP TABLE IF EXISTS bench_scratch_occupancy")


@dataclass
class Unit:
    """A generated resource and what the booking writer needs to know about it."""

    pk: int
    venue_pk: int
    kind: str  # a KIND_WEIGHT key: the hall, its parts and ordinary resources are told apart
    hourly_cents: int
    buffer_after: int  # minutes
    cells: list[tuple[int, int]]


@dataclass
class Network:
    units: list[Unit]
    people: list[int]


def _siret(rng: random.Random) -> str:
    siren = str(rng.randrange(10_000_000, 99_999_999))
    siren += luhn.calc_check_digit(siren)
    body = siren + f"{rng.randrange(1, 9999):04d}"
    return body + luhn.calc_check_digit(body)


def _closures(first_day: date, summer_break: bool) -> list[tuple[date, date, str]]:
    out = []
    for year in (first_day.year, first_day.year + 1):
        out.append((date(year, 12, 24), date(year + 1, 1, 1), "Fêtes de fin d'année"))
        if summer_break:
            out.append((date(year, 8, 1), date(year, 8, 21), "Congés d'été"))
    return out


def _venue_cells(
    first_day: date, template: dict, closures: list[tuple[date, date, str]]
) -> list[tuple[int, int]]:
    """(day index, cell start hour) of every two-hour cell inside the venue's opening hours."""
    cells = []
    for index in range(DAYS):
        day = first_day + timedelta(days=index)
        if any(first <= day <= last for first, last, _reason in closures):
            continue
        for opens, closes in template.get(day.weekday(), ()):
            cells.extend((index, hour) for hour in CELL_STARTS if opens <= hour and hour + 2 <= closes)
    return cells


def _resource_specs(rng: random.Random, has_hall: bool) -> list[tuple[str, dict]]:
    """(role, model fields) of a venue's twenty resources; every other venue has a hall in two parts."""
    specs: list[tuple[str, dict]] = []
    if has_hall:
        specs.append(("hall", {"name": "Grande halle", "capacity": rng.randrange(100, 160, 10)}))
        specs += [("part", {"name": part, "capacity": rng.randrange(40, 80, 5)}) for part in HALL_PARTS]
    for n, name in enumerate(ROOMS[:4] if has_hall else ROOMS):
        fields = {"name": name, "capacity": rng.choice(ROOM_CAPACITIES)}
        if n == 0:
            fields["buffer_after"] = timedelta(minutes=30)  # cleaning time after each booking
        specs.append(("room", fields))
    specs += [("desk", {"name": f"Poste {n}", "kind": "desk"}) for n in range(1, 10)]
    specs += [
        ("equipment", {"name": name, "kind": "equipment", "approval_required": name == "Découpeuse laser"})
        for name in EQUIPMENT
    ]
    assert len(specs) == RESOURCES_PER_VENUE
    return specs


def _build_network(rng: random.Random, size: Size, first_day: date) -> Network:
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils.text import slugify

    from lieux.venues import models as m

    user_model = get_user_model()
    with transaction.atomic():
        network = m.Network.objects.create(name="Réseau de banc d'essai", slug="banc-essai")
        people = user_model.objects.bulk_create(
            [
                user_model(email=f"personne{i}@banc.lieux-communs.test", password="!", first_name=f"P{i}")
                for i in range(size.people)
            ],
            batch_size=2000,
        )
        cities = rng.choices(CITIES, weights=[weight for *_, weight in CITIES], k=size.venues)
        venues = m.Venue.objects.bulk_create(
            [
                m.Venue(
                    network=network,
                    slug=f"{slugify(city)}-{i}",
                    name=f"{VENUE_NAMES[i % len(VENUE_NAMES)]} {city} {i}",
                    legal_name=f"Association {VENUE_NAMES[i % len(VENUE_NAMES)]} {i}",
                    legal_form="Association loi 1901",
                    siret=_siret(rng),
                    vat_status=m.VatStatus.NOT_LIABLE,
                    street=f"{rng.randrange(1, 200)} rue de la République",
                    postcode=postcode,
                    city=city,
                    timezone=TZ_NAME,
                )
                for i, (city, postcode, _weight) in enumerate(cities)
            ],
            batch_size=1000,
        )
        hours, closures, roles, plans = [], [], [], []
        for i, venue in enumerate(venues):
            template = TEMPLATES[i % len(TEMPLATES)]
            venue_closures = _closures(first_day, summer_break=template is WEEK_LUNCH)
            hours += [
                m.OpeningHours(venue=venue, weekday=weekday, opens_at=clock(opens), closes_at=clock(closes))
                for weekday, windows in template.items()
                for opens, closes in windows
            ]
            closures += [
                m.Closure(venue=venue, starts_on=s, ends_on=e, reason=r) for s, e, r in venue_closures
            ]
            roles.append(m.VenueRole(venue=venue, user=people[i % len(people)], role=m.Role.MANAGER))
            plans.append(
                (venue, _venue_cells(first_day, template, venue_closures), _resource_specs(rng, i % 2 == 0))
            )
        m.OpeningHours.objects.bulk_create(hours, batch_size=2000)
        m.Closure.objects.bulk_create(closures, batch_size=2000)
        m.VenueRole.objects.bulk_create(roles, batch_size=2000)

        # Parents first: the parts need their hall's primary key.
        resources = [
            (m.Resource(venue=venue, slug=slugify(fields["name"]), **{"kind": "room", **fields}), role, index)
            for index, (venue, _cells, specs) in enumerate(plans)
            for role, fields in specs
        ]
        m.Resource.objects.bulk_create([r for r, role, _i in resources if role != "part"], batch_size=2000)
        halls = {index: r for r, role, index in resources if role == "hall"}
        parts = [r for r, role, _i in resources if role == "part"]
        for resource, role, index in resources:
            if role == "part":
                resource.parent = halls[index]
        m.Resource.objects.bulk_create(parts, batch_size=2000)
        m.ResourcePrice.objects.bulk_create(
            [price for resource, role, _i in resources for price in _prices(m, resource, role)],
            batch_size=5000,
        )

    # A fifth of a hall venue's cells go to the hall, the rest to its parts: the two never meet.
    hall_cells = {
        index: set(rng.sample(cells, len(cells) // 5)) for index, (_v, cells, _s) in enumerate(plans)
    }
    units = []
    for resource, role, index in resources:
        cells = plans[index][1]
        if role == "hall":
            cells = [c for c in cells if c in hall_cells[index]]
        elif role == "part":
            cells = [c for c in cells if c not in hall_cells[index]]
        buffer = int(resource.buffer_after.total_seconds() // 60)
        units.append(Unit(resource.pk, resource.venue_id, role, HOURLY_CENTS[role], buffer, cells))
    return Network(units=units, people=[p.pk for p in people])


def _prices(m, resource, role: str) -> list:
    cents = HOURLY_CENTS[role]
    prices = []
    for audience, percent in (("public", 100), ("member", 70)):
        units = {"hour": cents, "day": cents * 6} if role in {"room", "hall", "part"} else {"hour": cents}
        prices += [
            m.ResourcePrice(
                resource=resource, unit=unit, audience=audience, net_amount=Decimal(c * percent) / 10000
            )
            for unit, c in units.items()
        ]
    return prices


def _targets(rng: random.Random, units: list[Unit], total: int) -> list[int]:
    """How many bookings each resource gets: proportional to its kind's weight, summing to `total`."""
    weights = [KIND_WEIGHT[u.kind] for u in units]
    scale = total / sum(weights)
    counts = [int(w * scale) for w in weights]
    for index in rng.sample(range(len(units)), total - sum(counts)):
        counts[index] += 1
    for unit, count in zip(units, counts, strict=True):
        if count > len(unit.cells):
            raise SystemExit(f"Resource {unit.pk} cannot hold {count} bookings in {len(unit.cells)} cells")
    return counts


def _stamp_cache(first_day: date) -> Callable[[int, int], str]:
    """(day index, local minute of day) → UTC timestamp text for COPY, memoised (a few thousand values)."""
    tz = ZoneInfo(TZ_NAME)
    cache: dict[tuple[int, int], str] = {}

    def stamp(day: int, minute: int) -> str:
        key = (day, minute)
        text = cache.get(key)
        if text is None:
            local = datetime.combine(
                first_day + timedelta(days=day), clock(minute // 60, minute % 60), tzinfo=tz
            )
            text = cache[key] = local.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S+00")
        return text

    return stamp


def _booking_rows(rng: random.Random, size: Size, network: Network, first_day: date) -> list[list[str]]:
    """COPY rows (without their leading id) bucketed by day, so ids and pages follow time as they would
    in a live database."""
    stamp = _stamp_cache(first_day)
    shapes = [shape for shape, _ in SHAPES]
    shape_weights = [weight for _, weight in SHAPES]
    by_day: list[list[str]] = [[] for _ in range(DAYS)]
    people = network.people
    made = 0
    next_report = 250_000
    for unit, count in zip(network.units, _targets(rng, network.units, size.bookings), strict=True):
        usable = [s for s in shapes if s[0] + s[1] + unit.buffer_after <= 120]
        picked = rng.choices(usable, weights=shape_weights[: len(usable)], k=count)
        for (day, hour), (offset, minutes) in zip(rng.sample(unit.cells, count), picked, strict=True):
            start = hour * 60 + offset
            created = stamp(day - 14, 9 * 60 + (start % 7) * 30)
            roll = rng.random()
            if roll < 0.06:
                status, cancelled, reason = "cancelled", stamp(day - 2, 10 * 60), "Annulée par la personne"
            elif roll < 0.08:
                status, cancelled, reason = "pending", NULL, ""
            else:
                status, cancelled, reason = "confirmed", NULL, ""
            cents = unit.hourly_cents * minutes // 60
            by_day[day].append(
                f"{rng.choice(TITLES)}\t\t{stamp(day, start)}\t{stamp(day, start + minutes)}\t"
                f"{status}\t{NULL}\t"
                f"{cents // 100}.{cents % 100:02d}\t{created}\t{created}\t{cancelled}\t{reason}\t"
                f"{people[rng.randrange(len(people))]}\t{NULL}\t{NULL}\t{unit.pk}\t{unit.venue_pk}\t0\n"
            )
        made += count
        if made >= next_report:
            log(f"{made:,} bookings formatted")
            next_report += 250_000
    return by_day


def _secondary_schema(conn: psycopg.Connection, table: str) -> tuple[list, list]:
    """(name, definition) of every constraint but the primary key, and of every index that backs no
    constraint."""
    constraints = conn.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass "
        "AND contype <> 'p' ORDER BY contype DESC, conname",
        [table],
    ).fetchall()
    indexes = conn.execute(
        "SELECT i.relname, pg_get_indexdef(x.indexrelid)"
        " FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid"
        " WHERE x.indrelid = %s::regclass AND NOT x.indisprimary AND NOT EXISTS"
        " (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid AND c.conrelid = x.indrelid)",
        [table],
    ).fetchall()
    return constraints, indexes


def _write_bookings(
    conn: psycopg.Connection, rng: random.Random, size: Size, network: Network, first_day: date
) -> int:
    started = time.perf_counter()
    by_day = _booking_rows(rng, size, network, first_day)
    log(f"{size.bookings:,} bookings formatted in {time.perf_counter() - started:.1f}s")
    tables = ("booking_occupancy", "booking_booking")
    with conn.transaction():
        conn.execute("SET LOCAL maintenance_work_mem = '512MB'")
        conn.execute("SET LOCAL synchronous_commit = off")
        saved = {table: _secondary_schema(conn, table) for table in tables}
        for table, (constraints, indexes) in saved.items():
            for name, _definition in constraints:
                conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            for name, _definition in indexes:
                conn.execute(f'DROP INDEX "{name}"')

        step = time.perf_counter()
        next_id = 1
        with conn.cursor().copy(f"COPY booking_booking ({BOOKING_COLUMNS}) FROM STDIN") as copy:
            for rows in by_day:
                chunk = [f"{next_id + n}\t{row}" for n, row in enumerate(rows)]
                next_id += len(rows)
                copy.write("".join(chunk))
        by_day.clear()
        log(f"bookings copied in {time.perf_counter() - step:.1f}s")

        # One row per leaf unit a booking covers, buffers included, as services.occupancy.occupy writes
        # them; the generator makes one level of halls, hence a single join to the parts.
        step = time.perf_counter()
        occupancies = conn.execute(
            """INSERT INTO booking_occupancy (starts_at, ends_at, is_active, booking_id, resource_id)
               SELECT b.starts_at - r.buffer_before, b.ends_at + r.buffer_after,
                      b.status IN ('held', 'pending', 'confirmed'), b.id, COALESCE(part.id, r.id)
               FROM booking_booking b
               JOIN venues_resource r ON r.id = b.resource_id
               LEFT JOIN venues_resource part ON part.parent_id = r.id"""
        ).rowcount
        log(f"{occupancies:,} occupancies derived in {time.perf_counter() - step:.1f}s")

        step = time.perf_counter()
        for table in reversed(tables):
            constraints, indexes = saved[table]
            for _name, definition in indexes:
                conn.execute(definition)
            for name, definition in constraints:
                conn.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        for table in tables:
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        log(f"indexes and constraints rebuilt (no overlap verified) in {time.perf_counter() - step:.1f}s")
    step = time.perf_counter()
    for table in tables:
        conn.execute(f"VACUUM (ANALYZE) {table}")
    log(f"vacuumed and analysed in {time.perf_counter() - step:.1f}s")
    return occupancies
