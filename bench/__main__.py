"""python -m bench [--scale 0.1] [--only availability booking feed] …  (see bench/README.md)"""

import argparse
import os
import sys
import time

from bench import db
from bench.report import Report, machine

PARTS = ("availability", "booking", "feed")


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
    args = parser.parse_args(argv)
    if not 0 < args.scale <= 2:
        parser.error("--scale must be in (0, 2]")
    if not 0 < args.seconds <= 120 or not 0 < args.max_seconds <= 600:
        parser.error("--seconds must be in (0, 120] and --max-seconds in (0, 600]")
    if min(args.samples, args.feeds, args.clients, args.rooms, args.workers, args.threads) < 1:
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

    from bench import availability, booking_api, feed, generate

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
    print()
    print(report.text_table())
    print()
    print("\n".join(report.details))
    paths = report.write(machine(url), context, dataset.scale)
    print(f"\nWritten to {paths[0]} and {paths[1].name}; total {time.perf_counter() - started:.0f}s")
    if not report.correct:
        print("A correctness check failed (see the rows with an exact target).", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
