"""Booking creation through the HTTP API under concurrency, beside raw guarded INSERTs.

A real gunicorn serves the platform on 127.0.0.1; client threads POST /api/v1/bookings for random slots
of a set of rooms for a bounded time, then the database is checked for overlapping active occupancies.
The baseline replays exactly the same attempts as raw `INSERT … ON CONFLICT DO NOTHING` into a scratch
table guarded by the same exclusion constraint, with as many psycopg threads.

The slots lie after the generated year, so only the bench's own bookings compete; the clients are staff
of the venues (opening hours do not apply to staff), and their bookings are deleted before and after.
"""

import http.client
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg

from bench.db import server_env
from bench.generate import TZ_NAME, Dataset
from bench.report import RESULTS_DIR, Report, Row, summary

ENDPOINT = "/api/v1/bookings"
CLIENT_DOMAIN = "banc-api.lieux-communs.test"
WINDOW_OFFSET_DAYS = 30  # after the generated year
WINDOW_DAYS = 28
DURATIONS = (60, 90, 120)
MAX_SECONDS = 120
REPO = Path(__file__).resolve().parent.parent

OVERLAPS_SQL = """
SELECT count(*) FROM {table} a JOIN {table} b
  ON b.resource_id = a.resource_id AND b.id > a.id AND b.is_active
 AND b.starts_at < a.ends_at AND a.starts_at < b.ends_at
WHERE a.is_active AND a.resource_id = ANY(%s)
"""
SCRATCH_DDL = """
CREATE TABLE IF NOT EXISTS bench_scratch_occupancy (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    resource_id bigint NOT NULL,
    starts_at timestamptz NOT NULL,
    ends_at timestamptz NOT NULL,
    is_active boolean NOT NULL DEFAULT true,
    CONSTRAINT bench_scratch_no_overlap EXCLUDE USING gist
        (resource_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) WHERE (is_active)
)"""


@dataclass(frozen=True)
class Attempt:
    resource_id: int
    start: datetime
    end: datetime


@dataclass
class Outcome:
    """What one client thread saw."""

    statuses: dict[str, int] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)
    samples: list[str] = field(default_factory=list)  # bodies of unexpected answers, for diagnosis


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """gunicorn serving the platform on the bench database; stopped (by its own pid) on exit."""

    def __init__(self, url: str, *, workers: int, threads: int) -> None:
        self.port = _free_port()
        self.log_path = RESULTS_DIR / "gunicorn.log"
        RESULTS_DIR.mkdir(exist_ok=True)
        self.log = self.log_path.open("w", encoding="utf-8")
        command = [
            sys.executable, "-m", "gunicorn", "lieux.wsgi:application",
            "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers), "--threads", str(threads),
            "--timeout", "60", "--log-level", "warning",
        ]  # fmt: skip
        env = {**os.environ, **server_env(url)}
        self.process = subprocess.Popen(command, cwd=REPO, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited with {self.process.returncode}; see {self.log_path}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/api/v1/openapi.json")
                conn.getresponse().read()
                conn.close()
                return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise SystemExit(f"gunicorn did not answer within {timeout:.0f}s; see {self.log_path}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.log.close()


def _pick_rooms(count: int, seed: int) -> tuple[dict[int, str], list[int], set[int]]:
    """Rooms to book, halls included: (id → the API's `<venue-slug>/<resource-slug>` reference, ids of
    the units they cover, their venues)."""
    from lieux.venues.models import Resource

    rooms = list(
        Resource.objects.filter(kind="room", is_active=True)
        .order_by("pk")
        .values_list("pk", "venue_id", "venue__slug", "slug")
    )
    chosen = random.Random(seed).sample(rooms, min(count, len(rooms)))
    refs = {pk: f"{venue_slug}/{slug}" for pk, _venue, venue_slug, slug in chosen}
    parts = Resource.objects.filter(parent_id__in=refs).values_list("pk", flat=True)
    return refs, sorted(set(refs) | set(parts)), {venue for _pk, venue, _vs, _s in chosen}


def _clients(count: int, venue_ids: set[int]) -> tuple[list[int], list[str]]:
    """Staff accounts of the venues, one API token each (tokens are shown once: new ones every run)."""
    from lieux.accounts.models import User
    from lieux.accounts.services import issue_api_token
    from lieux.venues.models import Role, VenueRole

    users = []
    for n in range(count):
        user, _created = User.objects.get_or_create(
            email=f"client{n}@{CLIENT_DOMAIN}", defaults={"password": "!"}
        )
        users.append(user)
    VenueRole.objects.bulk_create(
        [VenueRole(venue_id=v, user=u, role=Role.STAFF) for u in users for v in venue_ids],
        ignore_conflicts=True,
    )
    return [u.pk for u in users], [issue_api_token(email=u.email, label="bench")[1] for u in users]


def _clean(conn: psycopg.Connection, user_ids: list[int]) -> None:
    """Remove what earlier runs of this bench wrote, so that every run starts from the generated data."""
    with conn.transaction():
        conn.execute(
            "DELETE FROM booking_occupancy WHERE booking_id IN "
            "(SELECT id FROM booking_booking WHERE booked_by_id = ANY(%s))",
            [user_ids],
        )
        conn.execute("DELETE FROM booking_booking WHERE booked_by_id = ANY(%s)", [user_ids])
        conn.execute("DELETE FROM core_auditevent WHERE actor_id = ANY(%s)", [user_ids])
        conn.execute("DELETE FROM accounts_apitoken WHERE user_id = ANY(%s) AND label = 'bench'", [user_ids])


def _random_attempt(rng: random.Random, rooms: list[int], first_day: date, tz: ZoneInfo) -> Attempt:
    day = first_day + timedelta(days=rng.randrange(WINDOW_DAYS))
    minutes = rng.choice(DURATIONS)
    start_minute = 8 * 60 + 30 * rng.randrange((12 * 60 - minutes) // 30 + 1)  # inside 08:00–20:00
    start = datetime(day.year, day.month, day.day, start_minute // 60, start_minute % 60, tzinfo=tz)
    return Attempt(rng.choice(rooms), start, start + timedelta(minutes=minutes))


def _client(
    port: int, token: str, refs: dict[int, str], first_day: date, deadline: float, seed: int
) -> Outcome:
    rng, tz, outcome, rooms = random.Random(seed), ZoneInfo(TZ_NAME), Outcome(), sorted(refs)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    while time.monotonic() < deadline:
        attempt = _random_attempt(rng, rooms, first_day, tz)
        body = json.dumps(
            {
                "resource": refs[attempt.resource_id],
                "start": attempt.start.isoformat(),
                "end": attempt.end.isoformat(),
                "title": "Banc d'essai",
            }
        )
        started = time.perf_counter()
        try:
            conn.request("POST", ENDPOINT, body, headers)
            response = conn.getresponse()
            answer = response.read()
            status = str(response.status)
        except (OSError, http.client.HTTPException) as error:
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            status, answer = "error", repr(error).encode()
        outcome.latencies_ms.append((time.perf_counter() - started) * 1000)
        outcome.attempts.append(attempt)
        outcome.statuses[status] = outcome.statuses.get(status, 0) + 1
        if status not in {"201", "409"} and len(outcome.samples) < 3:
            text = " ".join(answer[:400].decode(errors="replace").split())
            outcome.samples.append(f"{status} {text[:200]}")
    conn.close()
    return outcome


def _in_threads(count: int, work) -> tuple[list, float]:
    """Run work(n) in `count` threads started together; (results, wall seconds)."""
    results: list = [None] * count
    gate = threading.Barrier(count + 1)

    def body(n: int) -> None:
        gate.wait()
        results[n] = work(n)

    threads = [threading.Thread(target=body, args=(n,), daemon=True) for n in range(count)]
    for thread in threads:
        thread.start()
    gate.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return results, time.perf_counter() - started


def _raw_baseline(url: str, attempts: list[Attempt], clients: int) -> tuple[int, list[float], float]:
    """(rows inserted, latencies, wall seconds) for the same attempts as guarded raw INSERTs."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(SCRATCH_DDL)
        conn.execute("TRUNCATE bench_scratch_occupancy")
    connections = [psycopg.connect(url, autocommit=True) for _ in range(clients)]
    shares = [attempts[n::clients] for n in range(clients)]

    def work(n: int) -> tuple[int, list[float]]:
        inserted, latencies = 0, []
        with connections[n].cursor() as cur:
            for a in shares[n]:
                started = time.perf_counter()
                cur.execute(
                    "INSERT INTO bench_scratch_occupancy (resource_id, starts_at, ends_at)"
                    " VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                    [a.resource_id, a.start, a.end],
                )
                latencies.append((time.perf_counter() - started) * 1000)
                inserted += cur.rowcount
        return inserted, latencies

    try:
        results, seconds = _in_threads(clients, work)
    finally:
        for conn in connections:
            conn.close()
    return sum(r[0] for r in results), [ms for r in results for ms in r[1]], seconds


def run(
    url: str,
    dataset: Dataset,
    report: Report,
    *,
    seconds: float,
    clients: int,
    rooms: int,
    workers: int,
    threads: int,
    seed: int,
) -> None:
    from lieux.accounts.models import User

    seconds = min(seconds, MAX_SECONDS)
    refs, unit_ids, venue_ids = _pick_rooms(rooms, seed)
    first_day = dataset.last_day + timedelta(days=WINDOW_OFFSET_DAYS)
    with psycopg.connect(url, autocommit=True) as conn:
        previous = User.objects.filter(email__endswith=f"@{CLIENT_DOMAIN}").values_list("pk", flat=True)
        _clean(conn, list(previous))
        user_ids, tokens = _clients(clients, venue_ids)

        server = Server(url, workers=workers, threads=threads)
        try:
            server.wait_ready()
            print(
                f"  booking API: {clients} clients, {len(refs)} rooms, {seconds:g}s, "
                f"gunicorn {workers} workers × {threads} threads on port {server.port}",
                flush=True,
            )
            deadline = time.monotonic() + seconds
            outcomes, wall = _in_threads(
                clients,
                lambda n: _client(server.port, tokens[n], refs, first_day, deadline, seed * 1000 + n),
            )
        finally:
            server.stop()

        statuses: dict[str, int] = {}
        for outcome in outcomes:
            for status, count in outcome.statuses.items():
                statuses[status] = statuses.get(status, 0) + count
        latencies = [ms for o in outcomes for ms in o.latencies_ms]
        attempts = [a for o in outcomes for a in o.attempts]
        created, conflicts = statuses.get("201", 0), statuses.get("409", 0)
        others = sum(statuses.values()) - created - conflicts
        overlaps = conn.execute(OVERLAPS_SQL.format(table="booking_occupancy"), [unit_ids]).fetchone()[0]
        stored = conn.execute(
            "SELECT count(*) FROM booking_booking WHERE booked_by_id = ANY(%s)", [user_ids]
        ).fetchone()[0]
        guard = conn.execute(
            "SELECT count(*) FROM pg_constraint WHERE conname = 'occupancy_no_overlap'"
        ).fetchone()[0]

        print(f"  raw baseline: replaying {len(attempts):,} attempts as guarded INSERTs", flush=True)
        inserted, raw_latencies, raw_wall = _raw_baseline(url, attempts, clients)
        raw_overlaps = conn.execute(
            OVERLAPS_SQL.format(table="bench_scratch_occupancy"), [list(refs)]
        ).fetchone()[0]
        _clean(conn, user_ids)

    samples = [s for o in outcomes for s in o.samples][:3]
    if statuses.get("404", 0) == len(attempts):
        samples.insert(0, f"every request got 404: no route serves POST {ENDPOINT} (lieux/api/booking.py)")
    report.add(
        Row("booking API, bookings created per second", created / wall, "/s", 300, ">=", inserted / raw_wall),
        f"{len(attempts):,} requests in {wall:.1f}s ({len(attempts) / wall:,.0f} requests/s): "
        f"{created:,} × 201, {conflicts:,} × 409, {others:,} other {dict(sorted(statuses.items()))}",
        f"request latency {summary(latencies)}",
        f"raw INSERT … ON CONFLICT DO NOTHING: {len(attempts):,} attempts in {raw_wall:.1f}s "
        f"({len(attempts) / raw_wall:,.0f}/s), {inserted:,} inserted; {summary(raw_latencies)}",
        f"overlapping active occupancies afterwards: {overlaps} (raw table: {raw_overlaps}); "
        f"bookings stored {stored:,} for {created:,} answers 201; "
        f"exclusion constraint present: {bool(guard)}",
        *(f"unexpected answer: {s}" for s in samples),
    )
    report.add(
        Row("booking API, answers other than 201 or 409", others, "", 0, "=="),
        "a refused slot is a 409; anything else (404 from a missing route, 422, 500, a dropped connection) "
        "counts here",
    )
    report.add(
        Row("booking API, overlapping occupancies", overlaps, "", 0, "=="),
        "self-join of the active occupancies of every unit the rooms cover, generated data included",
    )
    report.add(
        Row("booking API, bookings stored minus 201 answers", stored - created, "", 0, "=="),
        "a refused or failed request must write nothing; every 201 must have written its booking",
    )
