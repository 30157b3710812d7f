"""Billing: the monthly billing run, invoice rendering, and concurrent issuance on one venue's sequence.

- **Billing run.** `lieux.memberships.services.billing_run.run_billing` over every active monthly
  subscription of the bench network (`bench.billing_data`), invoices recorded without their PDF
  (LIEUX_DELIVER_INVOICES off), in `--billing-workers` processes that share out the venues (each venue's
  numbers stay in one process, as a task per venue would). Baseline: the very rows the run wrote —
  invoices, their lines and the subscription-period links — inserted again by raw SQL into scratch copies
  of the three tables (same columns, indexes, unique and foreign keys), by COPY and by executemany.
- **Rendering.** The platform's PDF/A-3 + Factur-X renderer when it is present, one process (one core);
  beside it WeasyPrint alone on an invoice page of the same size.
- **Concurrent issuance.** `--issuers` threads issue drafts of a single venue, so every issue waits on
  that venue's issuing lock; baseline: as many psycopg threads running one transaction per invoice,
  `UPDATE counter … RETURNING` then `INSERT`, on scratch tables.

Every figure is printed with its baseline, and all of them are written to bench/results/billing-*.json.
"""

import json
import logging
import multiprocessing
import random
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal
from html import escape

import psycopg
from psycopg.types.string import TextLoader

from bench import billing_data
from bench.report import RESULTS_DIR, Report, Row, percentile, summary

RUN_TARGET = 500  # invoices per second on two cores
SCRATCH = {
    "billing_invoice": "bench_scratch_invoice",
    "billing_invoiceline": "bench_scratch_invoiceline",
    "memberships_subscriptioninvoice": "bench_scratch_subscriptioninvoice",
}
CHAIN_SAMPLE_VENUES = 5


@dataclass
class Figures:
    """Everything measured, as written to the JSON file."""

    billing_run: dict = field(default_factory=dict)
    rendering: dict = field(default_factory=dict)
    issuance: dict = field(default_factory=dict)


def _quiet_delivery() -> None:
    from django.conf import settings

    settings.LIEUX_DELIVER_INVOICES = False  # measured on their own below


# The billing run


class TimeUp(Exception):
    """Raised from the run's progress callback at the time bound: the run stops between two batches,
    as a killed run would (progress lines come once a batch has committed; each batch is its own
    transaction)."""


def _bill_venues(
    url: str, venue_ids: list[int] | None, period: date, as_of: date, deadline: float, label: str
) -> dict:
    """One worker: the billing run for `venue_ids` (None: every venue in one run, as `lieux billing run`),
    until done or until the wall-clock `deadline` (time.time())."""
    from bench import db

    db.setup_django(url)  # a no-op in the main process; a spawned worker may not have run its initializer
    _quiet_delivery()
    from lieux.memberships.services.billing_run import run_billing
    from lieux.venues.models import Venue

    seen = [0]
    last_print = [time.monotonic()]

    def progress(line: str) -> None:
        if not line.startswith("["):  # summaries, not subscriptions
            return
        seen[0] += 1
        if time.time() > deadline:
            raise TimeUp
        if time.monotonic() - last_print[0] > 15:
            last_print[0] = time.monotonic()
            print(f"  [billing run] {label}: {seen[0]:,} subscriptions done", flush=True)

    started = time.perf_counter()
    outcome: dict = {"invoices": 0, "subscriptions": 0, "errors": [], "busy": 0, "stopped": False}
    venues = [None] if venue_ids is None else list(Venue.objects.filter(pk__in=venue_ids).order_by("pk"))
    for venue in venues:
        try:
            result = run_billing(period=period, venue=venue, as_of=as_of, progress=progress)
        except TimeUp:
            outcome["stopped"] = True
            break
        outcome["invoices"] += result.invoices
        outcome["subscriptions"] += result.subscriptions
        outcome["busy"] += result.busy
        outcome["errors"] += result.errors[:5]
    outcome["seen"] = seen[0]
    outcome["seconds"] = time.perf_counter() - started
    return outcome


def _setup_worker(url: str) -> None:
    from bench import db

    db.setup_django(url)


def _run_in_workers(
    url: str, data: billing_data.BillingData, workers: int, seconds: float
) -> tuple[list[dict], float]:
    """Each worker's outcome and the run's wall time: that of the slowest worker, from the moment it
    started billing (spawning processes and setting Django up is not billing)."""
    from django.db import connections

    from lieux.venues.models import Venue

    deadline = time.time() + seconds
    if workers == 1:
        result = _bill_venues(url, None, data.period, data.as_of, deadline, "one process")
        return [result], result["seconds"]
    venue_ids = list(Venue.objects.order_by("pk").values_list("pk", flat=True))
    shares = [venue_ids[n::workers] for n in range(workers)]
    connections.close_all()
    context = multiprocessing.get_context("spawn")
    with context.Pool(workers, initializer=_setup_worker, initargs=(url,)) as pool:
        results = pool.starmap(
            _bill_venues,
            [
                (url, share, data.period, data.as_of, deadline, f"worker {n + 1}")
                for n, share in enumerate(shares)
            ],
        )
    return results, max(r["seconds"] for r in results)


def _numbering_faults(conn: psycopg.Connection, venue_ids: list[int] | None = None) -> int:
    """Numbers missing or repeated over every (venue, kind, year) series of issued documents."""
    where = "status = 'issued'" + (" AND venue_id = ANY(%s)" if venue_ids else "")
    row = conn.execute(
        "SELECT coalesce(sum(abs(max_seq - n) + (n - distinct_seq)), 0) FROM ("
        "  SELECT max(sequence) AS max_seq, count(*) AS n, count(DISTINCT sequence) AS distinct_seq"
        f"  FROM billing_invoice WHERE {where} GROUP BY venue_id, kind, year) s",
        [venue_ids] if venue_ids else [],
    ).fetchone()
    return int(row[0])


def _scratch_tables(conn: psycopg.Connection) -> None:
    """Scratch copies of the tables the run writes: columns, defaults, checks, indexes and unique keys,
    and their foreign keys (pointing at each other where they pointed at the copied tables)."""
    for scratch in SCRATCH.values():
        conn.execute(f"DROP TABLE IF EXISTS {scratch} CASCADE")
    for source, scratch in SCRATCH.items():
        conn.execute(
            f"CREATE TABLE {scratch} (LIKE {source} INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
            "INCLUDING INDEXES)"
        )
    for source, scratch in SCRATCH.items():
        keys = conn.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass "
            "AND contype = 'f'",
            [source],
        ).fetchall()
        for (definition,) in keys:
            for original, copy in SCRATCH.items():
                definition = definition.replace(f"REFERENCES {original}(", f"REFERENCES {copy}(")
            conn.execute(f"ALTER TABLE {scratch} ADD {definition}")


def _raw_insert_baseline(url: str) -> dict:
    """Insert the run's rows again, by COPY and by executemany, into empty scratch tables."""
    out: dict = {}
    with psycopg.connect(url, autocommit=True) as conn:
        _scratch_tables(conn)
        exported: dict[str, bytes] = {}
        for source in SCRATCH:
            with conn.cursor().copy(f"COPY {source} TO STDOUT") as copy:
                exported[source] = b"".join(bytes(chunk) for chunk in copy)
        # Values as text for jsonb, so executemany sends back exactly what it read.
        conn.adapters.register_loader("jsonb", TextLoader)
        rows = {source: conn.execute(f"SELECT * FROM {source} ORDER BY id").fetchall() for source in SCRATCH}
        out["rows"] = {source: len(value) for source, value in rows.items()}
        out["megabytes"] = round(sum(len(v) for v in exported.values()) / 1e6, 1)

        started = time.perf_counter()
        with conn.transaction():
            for source, scratch in SCRATCH.items():
                with conn.cursor().copy(f"COPY {scratch} FROM STDIN") as copy:
                    copy.write(exported[source])
        out["copy_seconds"] = time.perf_counter() - started
        conn.execute(f"TRUNCATE {', '.join(SCRATCH.values())}")

        started = time.perf_counter()
        with conn.transaction(), conn.cursor() as cur:
            for source, scratch in SCRATCH.items():
                if not rows[source]:
                    continue
                marks = ", ".join(["%s"] * len(rows[source][0]))
                cur.executemany(f"INSERT INTO {scratch} VALUES ({marks})", rows[source])
        out["executemany_seconds"] = time.perf_counter() - started
        for scratch in SCRATCH.values():
            conn.execute(f"DROP TABLE IF EXISTS {scratch} CASCADE")
    return out


def run_billing_run(
    url: str, report: Report, figures: Figures, *, scale: float, seed: int, workers: int, seconds: float
) -> None:
    metric = "billing run, invoices per second"
    try:
        from lieux.memberships.services.billing_run import run_billing  # noqa: F401
    except ImportError as error:
        report.add(Row(metric, None, "/s", RUN_TARGET, ">="), f"not measured: no billing run ({error})")
        return
    from lieux.billing.services.chain import verify

    data = billing_data.prepare(url, scale=scale, seed=seed)
    print(
        f"  billing run: {data.subscriptions:,} subscriptions, month {data.period:%Y-%m} "
        f"(as of {data.as_of}), {workers} process(es), at most {seconds:g}s",
        flush=True,
    )
    results, wall = _run_in_workers(url, data, workers, seconds)
    stopped = any(r["stopped"] for r in results)
    errors = [e for r in results for e in r["errors"]]
    with psycopg.connect(url, autocommit=True) as conn:

        def count(sql: str, *params: object) -> int:
            return conn.execute(sql, list(params)).fetchone()[0]

        issued = count("SELECT count(*) FROM billing_invoice WHERE status = 'issued'")
        drafts = count("SELECT count(*) FROM billing_invoice WHERE status = 'draft'")
        links = count("SELECT count(*) FROM memberships_subscriptioninvoice")
        # A period entered must have its invoice (they commit together), and every invoice its period.
        renewed = count(
            "SELECT count(*) FROM memberships_subscription WHERE current_period_start >= %s", data.period
        )
        unbilled = count(
            "SELECT count(*) FROM memberships_subscription s WHERE s.current_period_start >= %s"
            " AND NOT EXISTS (SELECT 1 FROM memberships_subscriptioninvoice l"
            "  JOIN billing_invoice i ON i.id = l.invoice_id WHERE l.subscription_id = s.id"
            "  AND l.period_start = s.current_period_start AND i.status = 'issued')",
            data.period,
        )
        faults = _numbering_faults(conn)
        sample = [
            r[0]
            for r in conn.execute(
                "SELECT DISTINCT venue_id FROM billing_invoice ORDER BY venue_id LIMIT %s",
                [CHAIN_SAMPLE_VENUES],
            ).fetchall()
        ]
    breaches = sum(1 for venue_id in sample for _breach in verify(venue_id))
    print(f"  raw baseline: inserting the {issued:,} invoices, their lines and links again", flush=True)
    raw = _raw_insert_baseline(url)
    rate = issued / wall
    copy_rate = issued / raw["copy_seconds"]
    many_rate = issued / raw["executemany_seconds"]
    figures.billing_run = {
        "subscriptions": data.subscriptions,
        "venues": data.venues,
        "plans": data.plans,
        "organisation_paid": data.organisation_paid,
        "month": f"{data.period:%Y-%m}",
        "workers": workers,
        "seconds": round(wall, 2),
        "stopped_at_time_bound": stopped,
        "invoices": issued,
        "invoices_per_second": round(rate, 1),
        "target_per_second": RUN_TARGET,
        "drafts_left": drafts,
        "period_links": links,
        "renewed_without_invoice": unbilled,
        "numbering_faults": faults,
        "chain_breaches_in_sample": breaches,
        "chain_sample_venues": len(sample),
        "errors": errors[:10],
        "data_seconds": round(data.seconds, 1),
        "raw": {
            **raw,
            "copy_per_second": round(copy_rate, 1),
            "executemany_per_second": round(many_rate, 1),
        },
        "cost_vs_copy": round(copy_rate / rate, 1) if rate else None,
        "cost_vs_executemany": round(many_rate / rate, 1) if rate else None,
    }
    done = f"stopped at the time bound after {issued:,}" if stopped else f"all {issued:,}"
    report.add(
        Row(metric, rate, "/s", RUN_TARGET, ">=", copy_rate),
        f"{done} invoices of {data.subscriptions:,} subscriptions over {data.venues} venues in {wall:.1f}s, "
        f"{workers} process(es) sharing the venues; {len(errors)} errors",
        f"raw COPY of the same rows {raw['rows']} ({raw['megabytes']} MB): {raw['copy_seconds']:.2f}s "
        f"= {copy_rate:,.0f} invoices/s (×{copy_rate / rate:.1f} the run)",
        f"raw executemany of the same rows, one transaction: {raw['executemany_seconds']:.2f}s = "
        f"{many_rate:,.0f} invoices/s (×{many_rate / rate:.1f} the run)",
        *(f"error: {e}" for e in errors[:3]),
    )
    left_behind = 0 if stopped else data.subscriptions - renewed
    missing = unbilled + abs(links - issued) + drafts + len(errors) + left_behind
    report.add(
        Row("billing run, invoices missing, duplicated or failed", missing, "", 0, "=="),
        f"{renewed:,} periods entered, {unbilled} of them without an issued invoice; {issued:,} invoices, "
        f"{links:,} period links, {drafts} drafts left, {len(errors)} errors"
        + ("" if stopped else f", {left_behind} subscriptions not reached"),
    )
    report.add(
        Row("billing run, numbering gaps or duplicates", faults, "", 0, "=="),
        "per (venue, kind, year): count = max(sequence) = count(distinct sequence)",
    )
    report.add(
        Row("billing run, footprint chain breaches", breaches, "", 0, "=="),
        f"lieux.billing.services.chain.verify over the first {len(sample)} venues",
    )


# Rendering

INVOICE_PAGE = """<!doctype html><html lang="fr"><head><meta charset="utf-8"><style>
@page {{ size: A4; margin: 18mm 16mm; @bottom-center {{ content: "Page " counter(page); font-size: 8pt }} }}
body {{ font-family: sans-serif; font-size: 9.5pt; color: #222 }}
header {{ display: flex; justify-content: space-between; border-bottom: 2px solid #2a6f4e;
  padding-bottom: 6mm }}
h1 {{ font-size: 18pt; color: #2a6f4e; margin: 0 }}
table {{ width: 100%; border-collapse: collapse; margin-top: 8mm }}
th, td {{ border-bottom: 1px solid #ccc; padding: 2mm; text-align: left }}
td.n, th.n {{ text-align: right }}
.totals {{ width: 45%; margin-left: auto }}
footer {{ margin-top: 10mm; font-size: 8pt; color: #555 }}
</style></head><body>
<header><div><h1>{seller}</h1>{seller_address}<br>SIRET {siret}</div>
<div><strong>Facture {number}</strong><br>Date : {issued_on}<br>Échéance : {due_on}</div></header>
<p><strong>Client :</strong> {buyer}<br>{buyer_address}</p>
<table><thead><tr><th>Désignation</th><th class="n">Qté</th><th class="n">PU HT</th><th class="n">TVA</th>
<th class="n">Total HT</th></tr></thead><tbody>{lines}</tbody></table>
<table class="totals"><tr><td>Total HT</td><td class="n">{net} €</td></tr>
<tr><td>TVA</td><td class="n">{vat} €</td></tr><tr><th>Total TTC</th><th class="n">{gross} €</th></tr></table>
<footer>{mention}<br>Pénalités de retard : taux directeur de la BCE majoré de 10 points. Indemnité forfaitaire
pour frais de recouvrement : 40 €. Pas d'escompte pour paiement anticipé.</footer></body></html>"""


def _page_for(invoice) -> str:
    lines = "".join(
        f"<tr><td>{escape(line.description)}</td><td class='n'>{line.quantity:g}</td>"
        f"<td class='n'>{line.unit_net_amount} €</td><td class='n'>{line.vat_rate:g} %</td>"
        f"<td class='n'>{line.net_amount} €</td></tr>"
        for line in invoice.lines.all()
    )
    seller = {key: escape(str(value)) for key, value in invoice.seller.items()}
    buyer = {key: escape(str(value)) for key, value in invoice.buyer.items()}
    return INVOICE_PAGE.format(
        seller=seller.get("legal_name", ""),
        seller_address=f"{seller.get('street', '')}, {seller.get('postcode', '')} {seller.get('city', '')}",
        siret=seller.get("siret", ""),
        number=invoice.number,
        issued_on=f"{invoice.issued_on:%d/%m/%Y}",
        due_on=f"{invoice.due_on:%d/%m/%Y}",
        buyer=buyer.get("name", ""),
        buyer_address=buyer.get("address", ""),
        lines=lines,
        net=invoice.net_amount,
        vat=invoice.vat_amount,
        gross=invoice.gross_amount,
        mention=escape(invoice.vat_mention),
    )


def _platform_renderer():
    """(callable(invoice) → its stored PDF/A-3 + Factur-X document, its name)."""
    from lieux.billing.services import delivery

    return delivery.document_for, "lieux.billing.services.delivery.document_for"


def _timed(render, invoices: list, max_seconds: float) -> tuple[list[float], list[int]]:
    times, sizes = [], []
    deadline = time.monotonic() + max_seconds
    for invoice in invoices:
        if time.monotonic() > deadline:
            break
        started = time.perf_counter()
        produced = render(invoice)
        times.append(time.perf_counter() - started)
        body = getattr(produced, "pdf", produced)
        sizes.append(len(bytes(body)) if isinstance(body, bytes | bytearray | memoryview) else 0)
    return times, sizes


def run_rendering(
    url: str, report: Report, figures: Figures, *, count: int, max_seconds: float, seed: int
) -> None:
    from weasyprint import HTML

    # WeasyPrint warns on every document when HarfBuzz's subsetter is missing (it falls back on fontTools).
    logging.getLogger("weasyprint").setLevel(logging.ERROR)

    from lieux.billing.models import Invoice

    ids = list(Invoice.objects.filter(status="issued").order_by("pk").values_list("pk", flat=True)[:20_000])
    if not ids:
        report.add(
            Row("invoice PDF + Factur-X per core", None, "/s", None, ">="), "no issued invoice to render"
        )
        return
    chosen = random.Random(seed).sample(ids, min(count, len(ids)))
    invoices = list(Invoice.objects.filter(pk__in=chosen).prefetch_related("lines").order_by("pk"))

    def weasy(invoice) -> bytes:
        return HTML(string=_page_for(invoice)).write_pdf(pdf_variant="pdf/a-3b")

    weasy(invoices[0])  # warm-up: fonts, imports
    print(f"  rendering: {len(invoices)} invoices, one process", flush=True)
    raw_times, raw_sizes = _timed(weasy, invoices, max_seconds)
    raw_rate = len(raw_times) / sum(raw_times)
    render, name = _platform_renderer()
    rate = None
    details = []
    if render is not None:
        render(invoices[0])
        times, sizes = _timed(render, invoices, max_seconds)
        rate = len(times) / sum(times)
        details.append(
            f"{name}: {len(times)} invoices, {rate:.1f}/s per core, "
            f"{summary([t * 1000 for t in times])}, mean {sum(sizes) / len(sizes) / 1024:.0f} KiB"
        )
    else:
        details.append(f"platform renderer not measured: {name}")
    details.append(
        f"WeasyPrint alone (PDF/A-3b, one A4 invoice page, no XML): {len(raw_times)} invoices, "
        f"{raw_rate:.1f}/s per core, {summary([t * 1000 for t in raw_times])}, "
        f"mean {sum(raw_sizes) / len(raw_sizes) / 1024:.0f} KiB"
    )
    figures.rendering = {
        "renderer": name,
        "per_second_per_core": round(rate, 2) if rate else None,
        "weasyprint_alone_per_second": round(raw_rate, 2),
        "weasyprint_p50_ms": round(percentile([t * 1000 for t in raw_times], 50), 1),
        "samples": len(raw_times),
    }
    report.add(Row("invoice PDF + Factur-X per core", rate, "/s", None, ">=", raw_rate), *details)


# Concurrent issuance on one venue's sequence

COUNTER_DDL = """
DROP TABLE IF EXISTS bench_scratch_counter, bench_scratch_issued;
CREATE TABLE bench_scratch_counter (id integer PRIMARY KEY, last_number integer NOT NULL);
CREATE TABLE bench_scratch_issued (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    venue_id bigint NOT NULL,
    sequence integer NOT NULL,
    number text NOT NULL,
    issued_at timestamptz NOT NULL,
    gross_amount numeric(12, 2) NOT NULL,
    sealed_content jsonb NOT NULL,
    UNIQUE (venue_id, sequence),
    UNIQUE (venue_id, number)
);
INSERT INTO bench_scratch_counter VALUES (1, 0);
"""


def _in_threads(count: int, work) -> tuple[list, float]:
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


def _drafts(venue, buyers: list, count: int) -> list[int]:
    from lieux.billing.services.drafts import DraftLine, create_draft

    period = date.today().replace(day=1)
    return [
        create_draft(
            venue=venue,
            buyer_user=buyers[n % len(buyers)],
            lines=[
                DraftLine("Location de salle, demi-journée", Decimal(1), Decimal("95.00")),
                DraftLine("Café et boissons", Decimal(12), Decimal("1.50")),
            ],
            service_from=period,
            service_to=period,
            source_key=f"bench-issuance:{time.time_ns()}:{n}",
        ).pk
        for n in range(count)
    ]


def _issue_concurrently(queues: list[list[int]], seconds: float) -> tuple[list[float], list[str], float]:
    """One thread per queue, started together, each issuing the drafts of its queue (the same list may be
    shared by several threads) until it is empty or `seconds` have passed: (latencies in ms, errors,
    wall seconds)."""
    from django.db import connections

    from lieux.billing.services.issue import issue_invoice

    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def issuer(n: int) -> tuple[list[float], list[str]]:
        queue, latencies, errors = queues[n], [], []
        try:
            while time.monotonic() < deadline:
                with lock:
                    if not queue:
                        break
                    draft_id = queue.pop(0)
                started = time.perf_counter()
                try:
                    issue_invoice(draft_id)
                except Exception as error:  # counted and shown: the run must have none
                    errors.append(f"{type(error).__name__}: {error}")
                latencies.append((time.perf_counter() - started) * 1000)
        finally:
            connections.close_all()
        return latencies, errors

    results, wall = _in_threads(len(queues), issuer)
    return [ms for r in results for ms in r[0]], [e for r in results for e in r[1]], wall


def run_issuance(
    url: str, report: Report, figures: Figures, *, threads: int, drafts: int, seconds: float
) -> None:
    from lieux.accounts.models import User
    from lieux.billing.models import Invoice
    from lieux.venues.models import Venue

    _quiet_delivery()
    venue = Venue.objects.order_by("pk").first()
    buyers = list(User.objects.filter(email__endswith=billing_data.SUBSCRIBER_DOMAIN).order_by("pk")[:50])
    if venue is None or not buyers:
        report.add(Row("concurrent issuance, one venue", None, "/s", None, ">="), "no venue or buyer")
        return
    print(f"  concurrent issuance: writing {drafts:,} drafts for {venue.slug}", flush=True)
    shared = _drafts(venue, buyers, drafts)
    print(f"  concurrent issuance: {threads} threads on one venue, up to {seconds:g}s", flush=True)
    latencies, errors, wall = _issue_concurrently([shared] * threads, seconds)
    issued = len(latencies) - len(errors)
    rate = issued / wall

    # The same threads, each on a venue of its own: no issuing lock is shared, so the difference is what
    # queueing on one venue's sequence costs (the rest is this process's own CPU and GIL).
    others = list(Venue.objects.order_by("pk")[:threads])
    per_venue = max(1, -(-issued // len(others)))
    print(
        f"  concurrent issuance: {len(others)} threads on {len(others)} venues, {per_venue} each", flush=True
    )
    queues = [_drafts(other, buyers, per_venue) for other in others]
    spread_latencies, spread_errors, spread_wall = _issue_concurrently(queues, seconds)
    errors += spread_errors
    spread_rate = (len(spread_latencies) - len(spread_errors)) / spread_wall

    with psycopg.connect(url, autocommit=True) as conn:
        faults = _numbering_faults(conn, [other.pk for other in others])
        sample = Invoice.objects.filter(venue=venue, status="issued").order_by("-pk").first()
        payload = json.dumps(sample.sealed_content if sample else {})
        for statement in COUNTER_DDL.split(";"):
            if statement.strip():
                conn.execute(statement)
    raw_connections = [psycopg.connect(url, autocommit=True) for _ in range(threads)]
    shares = [issued // threads + (n < issued % threads) for n in range(threads)]

    def raw_issuer(n: int) -> list[float]:
        conn, latencies_ms = raw_connections[n], []
        for _ in range(shares[n]):
            started = time.perf_counter()
            with conn.transaction():
                number = conn.execute(
                    "UPDATE bench_scratch_counter SET last_number = last_number + 1 WHERE id = 1 "
                    "RETURNING last_number"
                ).fetchone()[0]
                conn.execute(
                    "INSERT INTO bench_scratch_issued (venue_id, sequence, number, issued_at, gross_amount,"
                    " sealed_content) VALUES (%s, %s, %s, now(), 132.00, %s)",
                    [venue.pk, number, f"BENCH-F-{number:06d}", payload],
                )
            latencies_ms.append((time.perf_counter() - started) * 1000)
        return latencies_ms

    try:
        raw_results, raw_wall = _in_threads(threads, raw_issuer)
    finally:
        for conn in raw_connections:
            conn.close()
    raw_latencies = [ms for r in raw_results for ms in r]
    raw_rate = len(raw_latencies) / raw_wall
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_scratch_counter, bench_scratch_issued")
    figures.issuance = {
        "venue": venue.slug,
        "threads": threads,
        "issued": issued,
        "seconds": round(wall, 2),
        "per_second": round(rate, 1),
        "p50_ms": round(percentile(latencies, 50), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "errors": errors[:10],
        "numbering_faults": faults,
        "spread_over_venues_per_second": round(spread_rate, 1),
        "spread_p50_ms": round(percentile(spread_latencies, 50), 1),
        "spread_p99_ms": round(percentile(spread_latencies, 99), 1),
        "raw_per_second": round(raw_rate, 1),
        "raw_p50_ms": round(percentile(raw_latencies, 50), 2),
        "raw_p99_ms": round(percentile(raw_latencies, 99), 2),
    }
    report.add(
        Row("concurrent issuance on one venue, invoices per second", rate, "/s", None, ">=", raw_rate),
        f"{threads} threads issued {issued:,} drafts of {venue.slug} in {wall:.1f}s; "
        f"issue_invoice latency {summary(latencies)}",
        f"the same {len(others)} threads each on a venue of its own: {spread_rate:,.1f}/s, "
        f"{summary(spread_latencies)}",
        f"raw UPDATE counter … RETURNING + INSERT, one transaction per invoice, {threads} threads: "
        f"{len(raw_latencies):,} in {raw_wall:.2f}s; {summary(raw_latencies)}",
        *(f"error: {e}" for e in errors[:3]),
    )
    report.add(
        Row("concurrent issuance, errors and numbering faults", len(errors) + faults, "", 0, "=="),
        f"{len(errors)} errors; {faults} numbers missing or repeated in the series of the {len(others)} "
        "venues issued to",
    )


def write_json(figures: Figures, context: dict[str, str]) -> list:
    RESULTS_DIR.mkdir(exist_ok=True)
    text = json.dumps({"context": context, **asdict(figures)}, indent=2, ensure_ascii=False, default=str)
    stamped = RESULTS_DIR / f"billing-{time.strftime('%Y%m%d-%H%M%S')}.json"
    latest = RESULTS_DIR / "billing-latest.json"
    for path in (stamped, latest):
        path.write_text(text + "\n", encoding="utf-8")
    return [latest, stamped]
