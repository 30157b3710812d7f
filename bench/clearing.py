"""Clearing between venues: a month of 1,000,000 visits (at scale 1) over the 300 venues of the bench network.

Before each run the visits of the bench month are replaced by freshly generated ones, written by `COPY`:
every person of the network has a home venue; 15 % of their visits are at home (not cleared), the others at
a host drawn with a skewed popularity, so nearly every one of the 89,700 ordered pairs holds visits; stays
last 1 to 9 hours, so some count as two half-days.

- **clearing of a month, dry run** — `lieux.interlieux.clearing.services.run.preview_clearing`: the
  GROUP BY of the month's visits by (home, host), the valuation with the network's key, the netting and the
  transfers, writing nothing. Baseline: the same GROUP BY alone (visits and stays over the bench venues'
  4-hour half-day), raw SQL through psycopg, in the same run.
- **clearing of a month, statement written** — `run_clearing`: the same, plus the statement with its
  matrix as JSON, one settlement line per venue and the transfers (a draft: no invoice).
- **clearing figures differing from raw** must be 0: the visits counted equal the raw count, the balances
  sum to zero, the transfers are at most venues − 1, and recomputing the statement from its stored inputs
  gives the stored figures.
"""

import random
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import psycopg

from bench.report import Report, Row

TARGET_SECONDS = 10
MONTH = date(2031, 1, 1)  # far from the booking data set's year and from any real month
FULL_VISITS = 1_000_000
RUNS = 3
AT_HOME = 0.15

RAW_SQL = """
    SELECT home_venue_id, venue_id, count(*),
           count(*) FILTER (WHERE last_seen_at > first_seen_at + interval '4 hours')
      FROM interlieux_visit
     WHERE day BETWEEN %(first)s AND %(last)s AND home_venue_id <> venue_id
     GROUP BY home_venue_id, venue_id
"""


def log(message: str) -> None:
    print(f"  [clearing] {message}", flush=True)


def _visit_rows(
    rng: random.Random, venues: list[int], people: list[int], count: int
) -> tuple[list[str], int]:
    """Tab-separated COPY rows; one visit per (person, venue, day) by construction."""
    days = 31
    home_of = {person: venues[i % len(venues)] for i, person in enumerate(people)}
    # Skewed popularity: a few venues receive many visitors, most receive some.
    weights = [1 / (rank + 1) ** 0.6 for rank in range(len(venues))]
    hosts = rng.choices(venues, weights=weights, k=count)
    seen: set[tuple[int, int, int]] = set()
    rows = []
    crossing = 0
    created = "2031-02-01 00:00:00+00"
    for index in range(count):
        for _attempt in range(20):
            person = people[rng.randrange(len(people))]
            home = home_of[person]
            host = home if rng.random() < AT_HOME else hosts[index]
            day = rng.randrange(days)
            slot = (person, host, day)
            if slot not in seen:
                break
        else:
            continue
        seen.add(slot)
        crossing += home != host
        arrived = datetime(2031, 1, 1 + day, 7, tzinfo=UTC) + timedelta(minutes=rng.randrange(300))
        left = arrived + timedelta(minutes=rng.randrange(60, 540))
        rows.append(
            f"{person}\t{host}\t{home}\t\\N\t{MONTH + timedelta(days=day)}\t{arrived.isoformat()}\t"
            f"{left.isoformat()}\t1\tbadge\t{created}\n"
        )
    return rows, crossing


def _write_visits(url: str, network_id: int, count: int, seed: int) -> tuple[int, int]:
    rng = random.Random(seed)
    last = MONTH + timedelta(days=30)
    with psycopg.connect(url, connect_timeout=5) as conn:
        venues = [
            r[0]
            for r in conn.execute(
                "SELECT id FROM venues_venue WHERE network_id = %s ORDER BY id", [network_id]
            )
        ]
        people = [r[0] for r in conn.execute("SELECT id FROM accounts_user ORDER BY id LIMIT 5000")]
        if len(venues) < 2 or not people:
            raise SystemExit("the bench network has no venues or people: generate the data set first")
        started = time.perf_counter()
        rows, crossing = _visit_rows(rng, venues, people, count)
        log(f"{len(rows):,} visits formatted in {time.perf_counter() - started:.1f}s")
        # Draft statements of the bench month only (the bench never closes one).
        conn.execute(
            "DELETE FROM clearing_transfer WHERE statement_id IN (SELECT id FROM clearing_clearingstatement"
            " WHERE month = %s AND status = 'draft')",
            [MONTH],
        )
        conn.execute(
            "DELETE FROM clearing_settlementline WHERE statement_id IN"
            " (SELECT id FROM clearing_clearingstatement WHERE month = %s AND status = 'draft')",
            [MONTH],
        )
        conn.execute("DELETE FROM clearing_clearingstatement WHERE month = %s AND status = 'draft'", [MONTH])
        conn.execute("DELETE FROM interlieux_visit WHERE day BETWEEN %s AND %s", [MONTH, last])
        started = time.perf_counter()
        columns = (
            "person_id, venue_id, home_venue_id, subscription_id, day, first_seen_at, last_seen_at, passages,"
            " source, created_at"
        )
        with conn.cursor().copy(f"COPY interlieux_visit ({columns}) FROM STDIN") as copy:
            for start in range(0, len(rows), 50_000):
                copy.write("".join(rows[start : start + 50_000]))
        conn.commit()
        conn.execute("ANALYZE interlieux_visit")
        conn.commit()
        log(f"{len(rows):,} visits written by COPY in {time.perf_counter() - started:.1f}s")
        return len(rows), crossing


def _raw_group_by(url: str, network_id: int) -> tuple[float, int, int]:
    """Best of RUNS: seconds, pairs, visits."""
    last = MONTH + timedelta(days=30)
    best = float("inf")
    pairs = visits = 0
    with psycopg.connect(url, connect_timeout=5, autocommit=True) as conn:
        for _ in range(RUNS):
            started = time.perf_counter()
            rows = conn.execute(RAW_SQL, {"first": MONTH, "last": last}).fetchall()
            best = min(best, time.perf_counter() - started)
            pairs, visits = len(rows), sum(r[2] for r in rows)
    return best, pairs, visits


def run(url: str, report: Report, *, scale: float, seed: int) -> dict:
    from lieux.interlieux.clearing import selectors
    from lieux.interlieux.clearing.services.explain import recompute
    from lieux.interlieux.clearing.services.keys import vote_key
    from lieux.interlieux.clearing.services.run import preview_clearing, run_clearing
    from lieux.venues.models import Network

    network = Network.objects.filter(slug="banc-essai").first()
    if network is None:
        raise SystemExit("no bench network: generate the data set first")
    count = round(FULL_VISITS * scale)
    written, crossing = _write_visits(url, network.pk, count, seed)
    if selectors.current_key(network, MONTH) is None:
        vote_key(
            network=network,
            method="per_half_day",
            unit_price=Decimal("6.00"),
            free_allowance=5,
            cap_per_pair=Decimal("400.00"),
            voted_on=MONTH - timedelta(days=60),
            note="bench",
        )

    raw_seconds, raw_pairs, raw_visits = _raw_group_by(url, network.pk)
    log(f"raw GROUP BY: {raw_pairs:,} pairs, {raw_visits:,} visits in {raw_seconds:.2f}s (best of {RUNS})")

    preview_seconds = float("inf")
    result = None
    for _ in range(RUNS):
        started = time.perf_counter()
        result = preview_clearing(network, MONTH)
        preview_seconds = min(preview_seconds, time.perf_counter() - started)
    assert result is not None
    log(f"dry run: {len(result.cells):,} pairs, {len(result.transfers)} transfers in {preview_seconds:.2f}s")

    started = time.perf_counter()
    statement = run_clearing(network, MONTH)
    run_seconds = time.perf_counter() - started
    log(f"statement {statement.pk} written in {run_seconds:.2f}s")

    venues = len(result.venue_names)
    mismatches = sum(
        [
            result.visits != raw_visits,
            len(result.cells) != raw_pairs,
            result.visits != crossing,
            sum(result.balances.values(), Decimal(0)) != 0,
            len(result.transfers) > venues - 1,
            not recompute(statement).matches,
            statement.cleared_amount != result.cleared_amount,
        ]
    )
    report.add(
        Row("clearing of a month, dry run (s)", preview_seconds, "s", TARGET_SECONDS, baseline=raw_seconds),
        f"preview_clearing of {written:,} visits ({crossing:,} across venues) over {venues} venues: "
        f"{len(result.cells):,} pairs, {len(result.transfers)} transfers, "
        f"{result.cleared_amount:,} € to transfer; best of {RUNS}",
        f"raw SQL GROUP BY (home, host) alone: {raw_seconds:.2f}s, best of {RUNS}",
    )
    report.add(
        Row(
            "clearing of a month, statement written (s)",
            run_seconds,
            "s",
            TARGET_SECONDS,
            baseline=raw_seconds,
        ),
        f"run_clearing: the same plus the statement (matrix as JSON, {statement.lines.count()} lines, "
        f"{statement.transfers.count()} transfers), one run",
    )
    report.add(
        Row("clearing figures differing from raw", mismatches, "", 0, "=="),
        "visits and pairs vs raw GROUP BY, balances sum to zero, transfers ≤ venues − 1, recompute matches",
    )
    return {
        "visits": written,
        "cross_venue_visits": crossing,
        "venues": venues,
        "pairs": len(result.cells),
        "transfers": len(result.transfers),
        "raw_seconds": raw_seconds,
        "preview_seconds": preview_seconds,
        "run_seconds": run_seconds,
    }
