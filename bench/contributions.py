"""Contributions: a bulk import of pasted lines, and a budget's pages over a year of contributions.

**Import** (`--only contributions-import`). 10,000 pasted lines at scale 1 (bench/contributions_data.py),
through `lieux.contributions.rules.imports.parse_lines` (the pure parser), `services.imports.preview_import`
(every line parsed and checked, nothing written), `import_contributions` (every line saved in one
transaction with its activity links and its audit row, or nothing) and the same import again (it finds
every line already saved and creates nothing). Before the real import, the same text with one impossible
date added at the end must be refused whole, naming that line, with nothing written. Baseline: the same
rows — contributions, activity links, audit rows with the same JSON — written by raw SQL through psycopg in
one transaction with every foreign key checked as it goes, by `COPY` and by `executemany`, then rolled
back; for the preview and the replay, the lookups they need (the actor, the activities, the 10,000 source
keys) as raw queries.

**Budget page** (`--only contributions-budget`). A network-wide budget with 100,000 contributions at scale 1
(its ledger checked against the generated rows first, `contributions_data.verify_budget`), served by a real
gunicorn on 127.0.0.1: the budget's web page for its manager (figures, burn-down, sources, receipts, the
people owed, the last payouts, the forms) and for a contributor it owes money (figures and the credit
offered instead of euros), the public transparency page (figures, burn-down, contributors as they agreed
to appear, hours by activity and month) and `GET /api/v1/budgets/{id}`, one request at a time on a
keep-alive connection, the four interleaved. Baseline: the raw SQL for the same figures — one GROUP BY over
the budget's ledger day rows and the count of pending requests — through psycopg; for the public page, that
plus what it adds from the same hours tallies (hours and contributions per contributor with their consent,
hours by month and activity), themselves checked against the contributions recounted in raw SQL. Every API
answer's figures are compared with what was generated. In this process, each page is
also rendered through Django's test client to count its SQL statements and the time they take.
"""

import http.client
import json
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import psycopg

from bench import contributions_data
from bench.booking_api import Server
from bench.report import Report, Row, percentile, summary

TARGET_LINES_PER_SECOND = 1000  # 10,000 lines in 10 s: a third of a web request's 30 s time-out
TARGET_P95_MS = 100
PROFILE_SAMPLES = 10
WARM_UP = 5
REQUEST_TIMEOUT = 30
BAD_LINE = "31/02/2026 2h : une date qui n'existe pas"

RAW_FIGURES_SQL = (
    "SELECT account, kind, sum(amount) FROM contributions_ledgerday WHERE budget_id = %s"
    " GROUP BY account, kind"
)
RAW_PENDING_SQL = (
    "SELECT count(*), coalesce(sum(amount_asked), 0) FROM contributions_contribution"
    " WHERE budget_id = %s AND status = 'submitted'"
)
RAW_PEOPLE_SQL = (
    "SELECT person_id, hours, contributions FROM contributions_personhours"
    " WHERE scope = 'budget' AND scope_id = %s"
)
RAW_CONSENT_SQL = (
    "SELECT p.person_id, p.visibility, p.pseudonym, u.first_name, u.last_name"
    " FROM contributions_contributorprofile p JOIN accounts_user u ON u.id = p.person_id"
    " WHERE p.person_id = ANY(%s) AND p.visibility <> 'hidden'"
)
RAW_ACTIVITY_HOURS_SQL = (
    "SELECT h.month, coalesce(a.name, ''), sum(h.hours) FROM contributions_activityhours h"
    " LEFT JOIN contributions_activity a ON a.id = h.activity_key"
    " WHERE h.scope = 'budget' AND h.scope_id = %s GROUP BY 1, 2"
)
# The check of the tallies, from the contributions themselves: a contribution's hours shared between its
# activities in hundredths, the leftover hundredths going to the first activities by key, as
# lieux.contributions.rules.hours.hour_shares shares them.
RECOUNT_HOURS_SQL = """
WITH counted AS (
    SELECT c.id, date_trunc('month', c.performed_on)::date AS month, c.hours
      FROM contributions_contribution c
     WHERE c.budget_id = %s AND c.status IN ('validated', 'paid') AND c.hours IS NOT NULL
), shares AS (
    SELECT k.month, k.hours, coalesce(a.name, '') AS name,
           row_number() OVER (PARTITION BY k.id ORDER BY a.id) - 1 AS position,
           count(*) OVER (PARTITION BY k.id) AS parts
      FROM counted k
      LEFT JOIN contributions_contribution_activities l ON l.contribution_id = k.id
      LEFT JOIN contributions_activity a ON a.id = l.activity_id
)
SELECT month, name,
       sum(floor(hours * 100 / parts) + CASE WHEN position < mod(hours * 100, parts) THEN 1 ELSE 0 END) / 100
  FROM shares GROUP BY month, name
"""
CONTRIBUTION_COLUMNS = (
    "id, performed_on, hours, kind, description, evidence_url, evidence_file, amount_asked, status,"
    " source_key, created_at, budget_id, contributor_id, declared_by_id, project_id"
)
AUDIT_COLUMNS = "at, action, venue_id, object_type, object_id, data, actor_id"


def log(message: str) -> None:
    print(f"  [contributions] {message}", flush=True)


def _rate(lines: int, seconds: float) -> float:
    return lines / seconds if seconds > 0 else 0.0


# --- the import ---------------------------------------------------------------------------------------------


def _raw_rows(preview: Any, data: contributions_data.ImportData) -> list[dict[str, Any]]:
    """What the import writes, line by line, from the preview's parsed lines (keys changed: the platform's
    rows are already there when the baseline runs)."""
    rows = []
    for line in preview.lines:
        row = line.row
        rows.append(
            {
                "performed_on": row.performed_on,
                "hours": row.hours,
                "kind": line.kind,
                "description": row.description,
                "amount": row.amount,
                "source_key": "raw:" + line.source_key,
                "contributor": line.contributor.pk,
                "activities": [a.pk for a in line.activities],
                "line": line.number,
            }
        )
    return rows


def _audit_data(row: dict[str, Any], data: contributions_data.ImportData, key: str) -> str:
    return json.dumps(
        {
            "import_key": key,
            "line": row["line"],
            "activities": row["activities"],
            "project": data.project_id,
            "budget": data.budget_id,
            "contributor": row["contributor"],
            "declared_by": data.actor_id,
            "status": "submitted",
            "performed_on": row["performed_on"].isoformat(),
            "hours": None if row["hours"] is None else str(row["hours"]),
            "amount_asked": None if row["amount"] is None else str(row["amount"]),
        }
    )


def _raw_copy(url: str, rows: list[dict[str, Any]], data: contributions_data.ImportData, key: str) -> float:
    """Seconds to write the rows by COPY in one transaction, foreign keys checked row by row; rolled back."""
    with psycopg.connect(url, connect_timeout=5) as conn:
        started = time.perf_counter()
        with conn.transaction(force_rollback=True):
            conn.execute("SET CONSTRAINTS ALL IMMEDIATE")
            ids = [
                r[0]
                for r in conn.execute(
                    "SELECT nextval(pg_get_serial_sequence('contributions_contribution', 'id'))"
                    " FROM generate_series(1, %s)",
                    [len(rows)],
                )
            ]
            now = contributions_data.stamp(datetime.now(UTC))
            text, money = contributions_data.text, contributions_data.money
            contributions_data.copy_rows(
                conn,
                "contributions_contribution",
                CONTRIBUTION_COLUMNS,
                [
                    f"{pk}\t{r['performed_on']}\t{money(r['hours'])}\t{r['kind']}\t{text(r['description'])}\t\t\t"
                    f"{money(r['amount'])}\tsubmitted\t{r['source_key']}\t{now}\t{data.budget_id}\t"
                    f"{r['contributor']}\t{data.actor_id}\t{data.project_id}\n"
                    for pk, r in zip(ids, rows, strict=True)
                ],
            )
            contributions_data.copy_rows(
                conn,
                "contributions_contribution_activities",
                "contribution_id, activity_id",
                [f"{pk}\t{a}\n" for pk, r in zip(ids, rows, strict=True) for a in r["activities"]],
            )
            contributions_data.copy_rows(
                conn,
                "core_auditevent",
                AUDIT_COLUMNS,
                [
                    f"{now}\tcontributions.contribution.imported\t\\N\tcontributions.contribution\t{pk}\t"
                    f"{text(_audit_data(r, data, key))}\t{data.actor_id}\n"
                    for pk, r in zip(ids, rows, strict=True)
                ],
            )
            seconds = time.perf_counter() - started
    return seconds


def _raw_executemany(
    url: str, rows: list[dict[str, Any]], data: contributions_data.ImportData, key: str
) -> float:
    """Seconds to write the rows by executemany (INSERT … RETURNING id) in one transaction; rolled back."""
    with psycopg.connect(url, connect_timeout=5) as conn:
        started = time.perf_counter()
        with conn.transaction(force_rollback=True), conn.cursor() as cur:
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
            now = datetime.now(UTC)
            cur.executemany(
                f"INSERT INTO contributions_contribution ({CONTRIBUTION_COLUMNS.removeprefix('id, ')})"
                " VALUES (%s, %s, %s, %s, '', '', %s, 'submitted', %s, %s, %s, %s, %s, %s) RETURNING id",
                [
                    (
                        r["performed_on"],
                        r["hours"],
                        r["kind"],
                        r["description"],
                        r["amount"],
                        r["source_key"],
                        now,
                        data.budget_id,
                        r["contributor"],
                        data.actor_id,
                        data.project_id,
                    )
                    for r in rows
                ],
                returning=True,
            )
            ids = []
            while True:
                found = cur.fetchone()
                assert found is not None
                ids.append(found[0])
                if not cur.nextset():
                    break
            cur.executemany(
                "INSERT INTO contributions_contribution_activities (contribution_id, activity_id)"
                " VALUES (%s, %s)",
                [(pk, a) for pk, r in zip(ids, rows, strict=True) for a in r["activities"]],
            )
            cur.executemany(
                f"INSERT INTO core_auditevent ({AUDIT_COLUMNS}) VALUES (%s,"
                " 'contributions.contribution.imported', NULL, 'contributions.contribution', %s, %s, %s)",
                [
                    (now, str(pk), _audit_data(r, data, key), data.actor_id)
                    for pk, r in zip(ids, rows, strict=True)
                ],
            )
            seconds = time.perf_counter() - started
    return seconds


def _raw_lookups(url: str, data: contributions_data.ImportData, keys: list[str]) -> tuple[float, int]:
    """Seconds for what a preview or a replay looks up (the actor, the activities, the source keys) as raw
    queries; and how many of the keys were found."""
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        started = time.perf_counter()
        conn.execute(
            "SELECT id, email, is_active FROM accounts_user WHERE id = %s", [data.actor_id]
        ).fetchone()
        conn.execute(
            "SELECT id, name, budget_id FROM contributions_activity WHERE network_id = %s"
            " AND (budget_id IS NULL OR budget_id = %s)",
            [data.network_id, data.budget_id],
        ).fetchall()
        found = conn.execute(
            "SELECT source_key FROM contributions_contribution WHERE source_key = ANY(%s)", [keys]
        ).fetchall()
        return time.perf_counter() - started, len(found)


def _count(conn: psycopg.Connection, query: str, params: list) -> int:
    return contributions_data.one(conn, query, params)[0]


def run_import(url: str, report: Report, *, scale: float, seed: int) -> dict:
    from lieux.accounts.models import User
    from lieux.contributions.errors import ImportRejected
    from lieux.contributions.models import Budget, Project
    from lieux.contributions.rules import imports as parser
    from lieux.contributions.services import imports as service

    data = contributions_data.prepare_import(url, scale=scale, seed=seed)
    count = data.lines
    actor = User.objects.get(pk=data.actor_id)
    project = Project.objects.select_related("network", "venue").get(pk=data.project_id)
    budget = Budget.objects.select_related("network", "venue").get(pk=data.budget_id)
    args = {"actor": actor, "project": project, "budget": budget, "fmt": service.LINES}
    log(f"{count:,} pasted lines ({len(data.content):,} characters) into one project and its budget")
    conn = psycopg.connect(url, autocommit=True, connect_timeout=5)
    try:
        # The parser alone: pure Python, best of three.
        parse_seconds = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            parsed = parser.parse_lines(data.content)
            parse_seconds = min(parse_seconds, time.perf_counter() - started)
        unread = sum(1 for line in parsed if not line.ok)

        started = time.perf_counter()
        preview = service.preview_import(content=data.content, **args)
        preview_seconds = time.perf_counter() - started
        log(f"preview: {len(preview.lines):,} lines, {len(preview.bad_lines)} bad, in {preview_seconds:.2f}s")

        # All or nothing: one bad line at the end refuses the whole text, and names that line.
        bad_text = data.content + BAD_LINE + "\n"
        bad_number = len(parser.split_lines(data.content.rstrip("\n"))) + 1
        started = time.perf_counter()
        try:
            service.import_contributions(content=bad_text, **args)
            rejected: list[dict] = []
        except ImportRejected as error:
            rejected = error.extra.get("lines", [])
        rejected_seconds = time.perf_counter() - started
        rejection_faults = int([line["line"] for line in rejected] != [bad_number])
        written_by_rejected = _count(
            conn, "SELECT count(*) FROM contributions_contribution WHERE project_id = %s", [data.project_id]
        )

        started = time.perf_counter()
        result = service.import_contributions(content=data.content, **args)
        import_seconds = time.perf_counter() - started
        log(f"import: {len(result.created):,} created in {import_seconds:.2f}s")

        started = time.perf_counter()
        replay = service.import_contributions(content=data.content, **args)
        replay_seconds = time.perf_counter() - started
        log(f"replay: {len(replay.created):,} created, {replay.skipped:,} skipped in {replay_seconds:.2f}s")

        stored = _count(
            conn, "SELECT count(*) FROM contributions_contribution WHERE project_id = %s", [data.project_id]
        )
        links = _count(
            conn,
            "SELECT count(*) FROM contributions_contribution_activities l JOIN contributions_contribution c"
            " ON c.id = l.contribution_id WHERE c.project_id = %s",
            [data.project_id],
        )
        audits = _count(
            conn,
            "SELECT count(*) FROM core_auditevent WHERE action = 'contributions.contribution.imported'"
            " AND object_id IN (SELECT id::text FROM contributions_contribution WHERE project_id = %s)",
            [data.project_id],
        )
        pending = _count(
            conn,
            "SELECT count(*) FROM contributions_contribution WHERE budget_id = %s AND status = 'submitted'",
            [data.budget_id],
        )

        # The raw baselines, from the preview's parsed lines.
        rows = _raw_rows(preview, data)
        copy_seconds = min(_raw_copy(url, rows, data, result.import_key) for _ in range(2))
        many_seconds = _raw_executemany(url, rows, data, result.import_key)
        keys = [line.source_key for line in preview.lines]
        lookup_seconds, found_keys = min(_raw_lookups(url, data, keys) for _ in range(3))
        raw_rows_after = _count(
            conn, "SELECT count(*) FROM contributions_contribution WHERE source_key LIKE 'raw:%%'", []
        )
    finally:
        removed = contributions_data.clean(conn)
        conn.close()
        log(f"cleaned: {', '.join(f'{n:,} {label}' for label, n in removed.items() if n)}")

    faults = {
        "lines the parser could not read": unread,
        "bad lines in the preview": len(preview.bad_lines),
        "rejected import not naming exactly the bad line": rejection_faults,
        "rows written by the rejected import": written_by_rejected,
        "contributions stored minus lines": abs(stored - count),
        "created by the replay": len(replay.created),
        "replay skips minus lines": abs(replay.skipped - count),
        "activity links missing or extra": abs(links - data.links),
        "audit rows minus lines": abs(audits - count),
        "stored contributions not submitted": abs(pending - count),
        "keys the raw lookup missed": abs(found_keys - count),
        "raw rows left after rollback": raw_rows_after,
    }
    label = f"{count:,} pasted lines"
    report.add(
        Row(f"contributions import, {label} parsed (lines/s)", _rate(count, parse_seconds), "/s", None, ">="),
        f"rules.imports.parse_lines alone, best of 3: {parse_seconds * 1000:.0f} ms for {count:,} lines "
        f"({len(data.content):,} characters, comment and blank lines between them)",
    )
    report.add(
        Row(
            f"contributions import, {label} previewed (lines/s)",
            _rate(count, preview_seconds),
            "/s",
            TARGET_LINES_PER_SECOND,
            ">=",
            baseline=_rate(count, lookup_seconds),
        ),
        f"services.imports.preview_import: every line parsed and checked (rights, activities, budget period, "
        f"already imported), nothing written: {preview_seconds:.2f}s",
        f"raw lookups (the actor, the activities, the {count:,} source keys): "
        f"{lookup_seconds * 1000:.0f} ms, best of 3",
        f"the same text plus one impossible date on line {bad_number:,}: refused whole in "
        f"{rejected_seconds:.2f}s, bad lines reported {[line['line'] for line in rejected]}",
    )
    report.add(
        Row(
            f"contributions import, {label} imported (lines/s)",
            _rate(count, import_seconds),
            "/s",
            TARGET_LINES_PER_SECOND,
            ">=",
            baseline=_rate(count, copy_seconds),
        ),
        f"services.imports.import_contributions (preview, then every contribution, activity link and audit "
        f"row in one transaction): {import_seconds:.2f}s, {len(result.created):,} contributions, "
        f"{links:,} links, {audits:,} audit rows",
        f"raw SQL, the same rows (contributions, {data.links:,} links, audit rows with the same JSON) in one "
        f"transaction with foreign keys checked row by row, rolled back: COPY {copy_seconds * 1000:.0f} ms "
        f"(best of 2, {_rate(count, copy_seconds):,.0f} lines/s); executemany {many_seconds:.2f}s "
        f"({_rate(count, many_seconds):,.0f} lines/s)",
    )
    report.add(
        Row(
            f"contributions import, {label} replayed (lines/s)",
            _rate(count, replay_seconds),
            "/s",
            TARGET_LINES_PER_SECOND,
            ">=",
            baseline=_rate(count, lookup_seconds),
        ),
        f"the same import again: {len(replay.created)} created, {replay.skipped:,} lines found already "
        f"imported, in {replay_seconds:.2f}s",
    )
    report.add(
        Row("contributions import, rows differing from the lines", sum(faults.values()), "", 0, "=="),
        ", ".join(f"{name} {value}" for name, value in faults.items()),
    )
    return {
        "lines": count,
        "parse_seconds": parse_seconds,
        "preview_seconds": preview_seconds,
        "import_seconds": import_seconds,
        "replay_seconds": replay_seconds,
        "copy_seconds": copy_seconds,
        "executemany_seconds": many_seconds,
    }


# --- the budget page ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    label: str
    path: str
    session: str | None  # the viewer's session key; None: anonymous


def _session(user_id: int) -> str:
    """A logged-in session in the database, as logging in would leave it."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from lieux.accounts.models import User

    user = User.objects.get(pk=user_id)
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    assert store.session_key is not None
    return store.session_key


def _get(conn: http.client.HTTPConnection, page: Page, cookie: str) -> tuple[int, bytes]:
    headers = {"Cookie": f"{cookie}={page.session}"} if page.session else {}
    conn.request("GET", page.path, headers=headers)
    response = conn.getresponse()
    return response.status, response.read()


def _wanted(expected: contributions_data.Expected) -> dict[str, Decimal | int]:
    return {
        "committed": expected.committed,
        "received": expected.received,
        "validated": expected.validated,
        "paid_euros": expected.paid_euros,
        "credit_issued": expected.credit_issued,
        "owed": sum(expected.owed.values(), Decimal(0)),
        "pending_count": expected.pending_count,
        "pending_amount": expected.pending_amount,
    }


def _api_faults(body: bytes, wanted: dict[str, Decimal | int]) -> int:
    """Figures of an API answer that differ from what was generated."""
    try:
        figures = json.loads(body)["figures"]
        return sum(
            1
            for name, value in wanted.items()
            if (figures[name] if name == "pending_count" else Decimal(figures[name])) != value
        )
    except (ValueError, KeyError, TypeError, ArithmeticError):
        return 1


def _raw_figures(conn: psycopg.Connection, budget_id: int) -> dict[str, Decimal | int]:
    """The budget's figures from raw SQL, folded as rules.ledger.figures folds them."""
    totals = {(a, k): v for a, k, v in conn.execute(RAW_FIGURES_SQL, [budget_id]).fetchall()}
    pending, asked = contributions_data.one(conn, RAW_PENDING_SQL, [budget_id])

    def balance(account: str) -> Decimal:
        return sum((v for (a, _k), v in totals.items() if a == account), Decimal(0))

    committed = totals.get(("receivable", "funding"), Decimal(0))
    received = -totals.get(("receivable", "receipt"), Decimal(0))
    return {
        "committed": committed,
        "received": received,
        "validated": committed + balance("envelope") + totals.get(("owed", "reduction"), Decimal(0)),
        "paid_euros": received - balance("cash"),
        "credit_issued": -balance("credit_issued"),
        "owed": -balance("owed"),
        "pending_count": pending,
        "pending_amount": asked,
    }


def _raw_public(conn: psycopg.Connection, budget_id: int) -> dict[tuple, Decimal]:
    """What the public page adds to the figures, from raw SQL over the same tallies: hours, contributions
    and consent per contributor, and hours by month and activity; returns the latter, (month, activity) →
    hours."""
    people = conn.execute(RAW_PEOPLE_SQL, [budget_id]).fetchall()
    conn.execute(RAW_CONSENT_SQL, [[row[0] for row in people]]).fetchall()
    return {(month, name): hours for month, name, hours in conn.execute(RAW_ACTIVITY_HOURS_SQL, [budget_id])}


def _recounted_hours(conn: psycopg.Connection, budget_id: int) -> dict[tuple, Decimal]:
    rows = conn.execute(RECOUNT_HOURS_SQL, [budget_id]).fetchall()
    return {(month, name): hours.quantize(Decimal("0.01")) for month, name, hours in rows}


def _platform_hours(budget_id: int) -> dict[tuple, Decimal]:
    from lieux.contributions.models import Scope
    from lieux.contributions.selectors import web as web_selectors

    months = web_selectors.hours_by_activity_and_month(Scope.BUDGET, budget_id)
    return {key: hours for key, hours in months.hours.items() if hours}


def _profile(pages: list[Page], host: str, max_seconds: float) -> list[str]:
    """Each page through Django's test client in this process: time, SQL statements and their time, the
    slowest statement of the median request."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    lines = []
    for page in pages:
        client = Client(HTTP_HOST=host)
        if page.session:
            client.cookies[settings.SESSION_COOKIE_NAME] = page.session
        client.get(page.path)  # warm
        samples = []
        deadline = time.perf_counter() + max_seconds
        while len(samples) < PROFILE_SAMPLES and time.perf_counter() < deadline:
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get(page.path)
                elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code == 200, (page.path, response.status_code)
            queries = sorted(
                ((float(q["time"]) * 1000, q["sql"]) for q in captured.captured_queries), reverse=True
            )
            samples.append((elapsed, queries))
        elapsed, queries = sorted(samples, key=lambda sample: sample[0])[len(samples) // 2]
        slowest_ms, slowest_sql = queries[0] if queries else (0.0, "")
        lines.append(
            f"{page.label}: median {elapsed:.1f} ms over {len(samples)} requests, {len(queries)} SQL "
            f"statements taking {sum(ms for ms, _sql in queries):.1f} ms (the rest: Python, templates); "
            f"the slowest ({slowest_ms:.1f} ms): {' '.join(slowest_sql.split())[:150]}…"
        )
    return lines


def _measure(
    pages: list[Page], port: int, *, requests: int, max_seconds: float, check: Any
) -> tuple[dict[str, list[float]], dict[str, Counter], dict[str, int], list[str]]:
    """`requests` GETs of each page, one at a time on one keep-alive connection, the pages interleaved; a
    page leaves the rotation once its requests have taken `max_seconds` in all. Returns per page the
    latencies, the statuses, the size of the last answer; and a few unexpected answers."""
    from django.conf import settings

    cookie = settings.SESSION_COOKIE_NAME
    latencies: dict[str, list[float]] = {page.label: [] for page in pages}
    statuses: dict[str, Counter] = {page.label: Counter() for page in pages}
    sizes: dict[str, int] = {}
    spent: dict[str, float] = dict.fromkeys(latencies, 0.0)
    samples: list[str] = []
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    for _ in range(WARM_UP):
        for page in pages:
            _get(conn, page, cookie)
    for _ in range(requests):
        active = [page for page in pages if spent[page.label] < max_seconds]
        if not active:
            break
        for page in active:
            sent = time.perf_counter()
            try:
                status, body = _get(conn, page, cookie)
            except (OSError, http.client.HTTPException) as error:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
                status, body = 0, repr(error).encode()
            elapsed = time.perf_counter() - sent
            spent[page.label] += elapsed
            latencies[page.label].append(elapsed * 1000)
            statuses[page.label][status] += 1
            sizes[page.label] = len(body)
            if status != 200 or not check(page, body):
                if len(samples) < 3:
                    text = " ".join(body[:200].decode(errors="replace").split())
                    samples.append(f"{page.label} → {status} {text}")
                if status == 200:
                    statuses[page.label]["200 wrong"] += 1
                    statuses[page.label][200] -= 1
    conn.close()
    return latencies, statuses, sizes, samples


def run_budget(
    url: str,
    report: Report,
    *,
    scale: float,
    seed: int,
    requests: int,
    workers: int,
    threads: int,
    max_seconds: float,
) -> dict:
    from django.utils.html import escape

    from lieux.contributions.models import Budget

    data = contributions_data.prepare_budget(url, scale=scale, seed=seed)
    expected = data.expected
    wanted = _wanted(expected)
    sessions: list[str] = []
    conn = psycopg.connect(url, autocommit=True, connect_timeout=5)
    try:
        started = time.perf_counter()
        problems = contributions_data.verify_budget(url, data)
        verify_seconds = time.perf_counter() - started
        for problem in problems:
            log(f"generated budget: {problem}")
        manager, viewer = _session(data.manager_id), _session(data.viewer_id)
        sessions += [manager, viewer]
        budget_path = f"/contributions/budgets/{data.budget_id}/"
        pages = [
            Page("budget page, manager", budget_path, manager),
            Page("budget page, contributor", budget_path, viewer),
            Page(
                "public budget page", f"/transparence/{data.network_slug}/budgets/{data.budget_slug}/", None
            ),
            Page("budget API", f"/api/v1/budgets/{data.budget_id}", None),
        ]
        name = str(escape(Budget.objects.get(pk=data.budget_id).name)).encode()

        def check(page: Page, body: bytes) -> bool:
            if page.path.startswith("/api/"):
                return _api_faults(body, wanted) == 0
            return name in body

        server = Server(url, workers=workers, threads=threads)
        try:
            server.wait_ready()
            log(
                f"{requests} requests per page (at most {max_seconds:g}s each), one at a time, the "
                f"{len(pages)} pages interleaved; gunicorn {workers} workers × {threads} threads on port "
                f"{server.port}"
            )
            latencies, statuses, sizes, samples = _measure(
                pages, server.port, requests=requests, max_seconds=max_seconds, check=check
            )
        finally:
            server.stop()

        # The raw baselines, as many times as the pages were asked for.
        log("raw SQL baselines")
        rounds = max(len(values) for values in latencies.values())
        raw_times, public_times = [], []
        with psycopg.connect(url, autocommit=True, connect_timeout=5) as raw:
            for _ in range(WARM_UP):
                _raw_figures(raw, data.budget_id)
            for _ in range(rounds):
                sent = time.perf_counter()
                figures = _raw_figures(raw, data.budget_id)
                raw_times.append((time.perf_counter() - sent) * 1000)
            deadline = time.perf_counter() + max_seconds
            for _ in range(len(latencies["public budget page"])):
                sent = time.perf_counter()
                _raw_figures(raw, data.budget_id)
                raw_hours = _raw_public(raw, data.budget_id)
                public_times.append((time.perf_counter() - sent) * 1000)
                if time.perf_counter() > deadline:
                    break
            recounted = _recounted_hours(raw, data.budget_id)
        raw_faults = sum(1 for key, value in wanted.items() if figures[key] != value)
        hours_faults = int(raw_hours != recounted) + int(_platform_hours(data.budget_id) != recounted)
        log("profiling each page in this process")
        profile = _profile(pages, "127.0.0.1", max_seconds / 4)
    finally:
        removed = contributions_data.clean(conn, sessions=sessions)
        conn.close()
        log(f"cleaned: {', '.join(f'{n:,} {label}' for label, n in removed.items() if n)}")

    raw_p95, public_p95 = percentile(raw_times, 95), percentile(public_times, 95)
    for page in pages:
        values = latencies[page.label]
        public = page.label == "public budget page"
        report.add(
            Row(
                f"{page.label}, {data.contributions:,} contributions (p95)",
                percentile(values, 95),
                "ms",
                TARGET_P95_MS,
                baseline=public_p95 if public else raw_p95,
            ),
            f"GET {page.path.replace(str(data.budget_id), '{id}')}"
            + (" (logged in)" if page.session else "")
            + f": {summary(values)}; {sizes.get(page.label, 0):,} bytes; statuses "
            f"{dict(sorted(statuses[page.label].items(), key=str))}",
            *(
                [
                    f"raw SQL for the same page (the figures, plus hours and contributions per contributor "
                    f"with their consent, and hours by month and activity, from the same tallies): "
                    f"{summary(public_times)}"
                ]
                if public
                else []
            ),
        )
    others = sum(n for counts in statuses.values() for status, n in counts.items() if status != 200)
    checked = "; ".join(problems) or (
        "day rows = entries summed by day, balances, figures, owed per person, every transaction balanced"
    )
    report.add(
        Row(
            "contributions budget, answers other than 200 or differing",
            others + raw_faults + hours_faults + len(problems),
            "",
            0,
            "==",
        ),
        f"answers other than 200, or without the budget's name, or (API) with figures differing from the "
        f"generated rows: {others}; raw figures differing: {raw_faults}; hours by month and activity of "
        f"the page or of the raw tallies differing from the contributions recounted in SQL: {hours_faults}; "
        f"generated ledger checks failed: {len(problems)} "
        f"({checked}; {verify_seconds:.1f}s)",
        "raw SQL for the figures (GROUP BY over the ledger day rows, pending requests): "
        + summary(raw_times),
        f"data: {data.contributions:,} contributions from {data.contributors:,} contributors, "
        f"{', '.join(f'{n:,} {s}' for s, n in sorted(expected.statuses.items()))}; "
        + ", ".join(f"{n:,} {label}" for label, n in expected.rows.items() if label != "contributions")
        + f"; committed {expected.committed:,} €, received {expected.received:,} €, validated "
        f"{expected.validated:,} €, paid {expected.paid_euros:,} € in euros and "
        f"{expected.credit_issued:,} € in credit; written in {data.seconds:.0f}s",
        *samples,
        *(f"in this process — {line}" for line in profile),
    )
    return {
        "contributions": data.contributions,
        "contributors": data.contributors,
        "requests": requests,
        "seconds": data.seconds,
        "p95": {label: percentile(values, 95) for label, values in latencies.items()},
        "raw_p95": raw_p95,
    }
