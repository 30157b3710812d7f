"""python -m bench [--scale 0.1] [--only availability booking … access token] …  (see bench/README.md)"""

import argparse
import os
import sys
import time

from bench import db
from bench.report import Report, machine

PARTS = (
    "availability",
    "booking",
    "feed",
    "billing",
    "clearing",
    "access",
    "token",
    "contributions-import",
    "contributions-budget",
)


def arguments(argv: list[str] | None) -> argparse.Namespace:
    cores = len(os.sched_getaffinity(0))
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0, help="data set size: 1 = 300 venues, 1M bookings")
    parser.add_argument("--seed", type=int, default=2026, help="seed of the generator and of the samples")
    parser.add_argument("--regenerate", action="store_true", help="rebuild the data set even if present")
    parser.add_argument("--only", nargs="+", choices=PARTS, default=list(PARTS), help="benchmarks to run")
    parser.add_argument("--samples", type=int, default=200, help="random queries per availability figure")
    parser.add_argument("--feeds", type=int, default=50, help="rooms whose yearly feed is rendered")
    parser.add_argument("--max-seconds", type=float, default=60, help="time bound of each measurement loop")
    parser.add_argument("--seconds", type=float, default=20, help="duration of the booking run (max 120)")
    parser.add_argument("--clients", type=int, default=32, help="concurrent client threads")
    parser.add_argument("--rooms", type=int, default=200, help="rooms the clients book")
    # One process per core beat 2n+1 processes on two cores (the server shares the machine with
    # PostgreSQL and the clients); beyond four threads per process, the GIL only adds queueing.
    parser.add_argument("--workers", type=int, default=max(2, cores), help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    parser.add_argument(
        "--billing-workers", type=int, default=cores, help="processes sharing the venues of the billing run"
    )
    parser.add_argument(
        "--run-seconds", type=float, default=600, help="time bound of the billing run (max 3600)"
    )
    parser.add_argument("--issuers", type=int, default=8, help="threads issuing one venue's drafts")
    parser.add_argument("--issue-drafts", type=int, default=2000, help="drafts the issuing threads share")
    parser.add_argument("--pdfs", type=int, default=100, help="invoices rendered to PDF")
    parser.add_argument("--access-rate", type=float, default=200, help="door checks due per second")
    parser.add_argument(
        "--access-seconds", type=float, default=60, help="duration of the door check run (max 120)"
    )
    parser.add_argument("--access-clients", type=int, default=16, help="client threads sending door checks")
    parser.add_argument("--tokens", type=int, default=10_000, help="QR tokens verified offline")
    parser.add_argument(
        "--page-requests", type=int, default=300, help="requests to each contributions budget page"
    )
    args = parser.parse_args(argv)
    if not 0 < args.scale <= 2:
        parser.error("--scale must be in (0, 2]")
    if not 0 < args.seconds <= 120 or not 0 < args.max_seconds <= 600 or not 0 < args.run_seconds <= 3600:
        parser.error("--seconds must be in (0, 120], --max-seconds in (0, 600], --run-seconds in (0, 3600]")
    if not 0 < args.access_seconds <= 120 or not 0 < args.access_rate <= 2000:
        parser.error("--access-seconds must be in (0, 120], --access-rate in (0, 2000]")
    if args.tokens < 20:
        parser.error("--tokens must be at least 20")
    counts = (
        args.samples, args.feeds, args.clients, args.rooms, args.workers, args.threads, args.access_clients
    )  # fmt: skip
    if min(*counts, args.billing_workers, args.issuers, args.issue_drafts, args.pdfs, args.page_requests) < 1:
        parser.error("counts must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    url = db.bench_url()
    started = time.perf_counter()
    print(f"Lieux Communs benchmarks on {url} (scale {args.scale:g})", flush=True)
    if db.ensure_database(url):
        print("  created the database", flush=True)
    db.setup_django(url)
    db.migrate()

    from bench import access, availability, billing, booking_api, clearing, contributions, feed, generate

    dataset = generate.ensure_dataset(url, scale=args.scale, seed=args.seed, force=args.regenerate)
    report = Report()
    if "availability" in args.only:
        availability.run(
            url, dataset, report, samples=args.samples, max_seconds=args.max_seconds, seed=args.seed
        )
    if "booking" in args.only:
        booking_api.run(
            url,
            dataset,
            report,
            seconds=args.seconds,
            clients=args.clients,
            rooms=args.rooms,
            workers=args.workers,
            threads=args.threads,
            seed=args.seed,
        )
    if "feed" in args.only:
        feed.run(url, dataset, report, samples=args.feeds, max_seconds=args.max_seconds, seed=args.seed)
    figures = billing.Figures()
    if "billing" in args.only:
        billing.run_billing_run(
            url,
            report,
            figures,
            scale=args.scale,
            seed=args.seed,
            workers=args.billing_workers,
            seconds=args.run_seconds,
        )
        billing.run_issuance(
            url,
            report,
            figures,
            threads=args.issuers,
            drafts=args.issue_drafts,
            seconds=min(args.seconds, 120),
        )
        billing.run_rendering(
            url, report, figures, count=args.pdfs, max_seconds=args.max_seconds, seed=args.seed
        )
    clearing_figures = None
    if "clearing" in args.only:
        clearing_figures = clearing.run(url, report, scale=args.scale, seed=args.seed)
    access_figures = None
    if "access" in args.only:
        access_figures = access.run(
            url,
            report,
            seconds=args.access_seconds,
            rate=args.access_rate,
            clients=args.access_clients,
            workers=args.workers,
            threads=args.threads,
            seed=args.seed,
        )
    token_figures = None
    if "token" in args.only:
        token_figures = access.run_tokens(report, count=args.tokens, seed=args.seed)
    import_figures = budget_figures = None
    if "contributions-import" in args.only:
        import_figures = contributions.run_import(url, report, scale=args.scale, seed=args.seed)
    if "contributions-budget" in args.only:
        budget_figures = contributions.run_budget(
            url,
            report,
            scale=args.scale,
            seed=args.seed,
            requests=args.page_requests,
            workers=args.workers,
            threads=args.threads,
            max_seconds=args.max_seconds,
        )

    context = {
        "data set": (
            f"scale {dataset.scale:g}: {dataset.venues} venues, {dataset.resources:,} resources, "
            f"{dataset.bookings:,} bookings, {dataset.occupancies:,} occupancies, "
            f"{dataset.first_day} to {dataset.last_day}"
        ),
        "generation": (
            f"{dataset.seconds:.0f}s" + (" (reused from an earlier run)" if dataset.reused else "")
        ),
        "booking run": (
            f"{args.clients} client threads, {args.rooms} rooms, {min(args.seconds, 120):g}s, "
            f"gunicorn {args.workers} workers × {args.threads} threads, client and server on this machine"
        ),
    }
    if "billing" in args.only:
        context["billing"] = (
            f"{figures.billing_run.get('subscriptions', 0):,} active monthly subscriptions, "
            f"{args.billing_workers} billing process(es); {args.issuers} issuing threads on one venue; "
            f"{args.pdfs} invoices rendered"
        )
    if clearing_figures:
        context["clearing"] = (
            f"{clearing_figures['visits']:,} visits in one month "
            f"({clearing_figures['cross_venue_visits']:,} across venues) "
            f"over {clearing_figures['venues']} venues"
        )
    if access_figures:
        shift = access_figures["offset_hours"]
        context["door access"] = (
            f"{access_figures['checks']:,} checks due at {access_figures['rate']:g}/s for "
            f"{access_figures['seconds']:g}s, {args.access_clients} client threads, "
            f"{access_figures['doors']} doors (one per venue), {access_figures['people']:,} people with a "
            f"badge; gunicorn {args.workers} workers × {args.threads} threads"
            + (f"; server clock moved +{shift:.1f} h into the venues' opening hours" if shift else "")
        )
    if token_figures:
        context["QR tokens"] = f"{token_figures['tokens']:,} tokens verified offline on one core"
    if import_figures:
        context["contributions import"] = f"{import_figures['lines']:,} pasted lines, in this process"
    if budget_figures:
        context["contributions budget"] = (
            f"{budget_figures['contributions']:,} contributions from {budget_figures['contributors']:,} "
            f"contributors over 12 months, written in {budget_figures['seconds']:.0f}s; "
            f"{budget_figures['requests']} requests per page, one at a time; gunicorn {args.workers} "
            f"workers × {args.threads} threads"
        )
    print()
    print(report.text_table())
    print()
    print("\n".join(report.details))
    paths = report.write(machine(url), context, dataset.scale)
    if "billing" in args.only:
        paths += billing.write_json(figures, {**machine(url), **context})
    print(f"\nWritten to {', '.join(str(p) for p in paths)}; total {time.perf_counter() - started:.0f}s")
    if not report.correct:
        print("A correctness check failed (see the rows with an exact target).", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
