"""Closing an accounting period (ISCA "conservation" and "archivage", CGI art. 286 I 3° bis).

A closing freezes a venue's period: it counts the documents issued in it, totals them (credit notes
subtracted), carries the perpetual total forward, writes an archive chained to the previous one, and is
itself chained to the previous closing by its footprint. Afterwards nothing can be issued inside the period
(`issue._refuse_closed_period`) and the closing row can be neither changed nor deleted (migration 0002).

Closings follow each other without gap or overlap, so the perpetual total covers every document ever
issued. They are taken under the venue's issuing lock: no document is issued while a period closes.
"""

import importlib.metadata
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from lieux.billing import rules
from lieux.billing.models import BillingProfile, DocumentKind, Invoice, InvoiceStatus, PeriodClosing
from lieux.billing.services import archive
from lieux.billing.services.chain import Breach
from lieux.billing.services.drafts import profile_for
from lieux.billing.services.exports import issued_documents, payments_received, write_atomically
from lieux.core import audit
from lieux.core.db import atomic_with_retry
from lieux.core.errors import Conflict, ValidationError
from lieux.core.money import ZERO
from lieux.core.time import now
from lieux.venues.models import Venue


@dataclass(frozen=True)
class PeriodTotals:
    document_count: int
    net_amount: Decimal
    vat_amount: Decimal
    gross_amount: Decimal


def period_totals(documents: list[Invoice]) -> PeriodTotals:
    """Invoices minus credit notes (credit notes carry positive amounts)."""
    net = vat = gross = ZERO
    for doc in documents:
        sign = -1 if doc.kind == DocumentKind.CREDIT_NOTE else 1
        net += sign * doc.net_amount
        vat += sign * doc.vat_amount
        gross += sign * doc.gross_amount
    return PeriodTotals(len(documents), net, vat, gross)


def software_version() -> str:
    try:
        return importlib.metadata.version("lieux-communs")
    except importlib.metadata.PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"


def archive_path(closing: PeriodClosing) -> Path:
    return archive.archives_dir(closing.venue.slug) / closing.archive_name


def closing_content(closing: PeriodClosing) -> dict[str, Any]:
    """What a closing's footprint covers."""
    return {
        "venue_id": closing.venue_id,
        "period_start": closing.period_start.isoformat(),
        "period_end": closing.period_end.isoformat(),
        "closed_at": closing.closed_at.isoformat(),
        "closed_by_id": closing.closed_by_id,
        "document_count": closing.document_count,
        "net_amount": f"{closing.net_amount:.2f}",
        "vat_amount": f"{closing.vat_amount:.2f}",
        "gross_amount": f"{closing.gross_amount:.2f}",
        "perpetual_gross_amount": f"{closing.perpetual_gross_amount:.2f}",
        "last_footprint": closing.last_footprint,
        "archive_name": closing.archive_name,
        "archive_sha256": closing.archive_sha256,
    }


def close_period(*, venue: Venue, period_start: date, period_end: date, actor: Any = None) -> PeriodClosing:
    """Close [period_start, period_end] for `venue` and write its archive.

    Refused when the period is reversed, not over yet in the venue's time zone, overlaps or does not follow
    the last closing, or (for a first closing) leaves earlier documents outside every closing."""
    if period_end < period_start:
        raise ValidationError(
            _("The period ends (%(end)s) before it starts (%(start)s).")
            % {"start": period_start, "end": period_end},
            code="invalid_period",
        )
    today = now().astimezone(venue.tz).date()
    if period_end >= today:
        raise ValidationError(
            _("The period ending on %(end)s is not over yet: it can be closed from %(next)s.")
            % {"end": period_end, "next": period_end + timedelta(days=1)},
            code="period_not_over",
        )
    profile_for(venue)
    pending: list[Path] = []
    try:
        closing = atomic_with_retry(
            lambda: _close(venue, period_start, period_end, actor=actor, pending=pending)
        )
    except BaseException:
        for path in pending:
            path.unlink(missing_ok=True)
        raise
    return closing


def _close(venue: Venue, start: date, end: date, *, actor: Any, pending: list[Path]) -> PeriodClosing:
    # The issuing lock of the venue: no document is issued, and no other closing taken, meanwhile.
    BillingProfile.objects.select_for_update().get(venue=venue)
    previous = PeriodClosing.objects.filter(venue=venue).order_by("-period_end").first()
    _check_sequence(venue, start, end, previous)

    documents = list(issued_documents(venue, start, end).select_related("corrects"))
    totals = period_totals(documents)
    chain_start = (
        documents[0].previous_footprint if documents else (previous.last_footprint if previous else "")
    )
    last_footprint = documents[-1].footprint if documents else chain_start
    previous_perpetual = previous.perpetual_gross_amount if previous else ZERO
    previous_archive = previous.archive_sha256 if previous else ""
    closed_at = now()
    closed_by = actor if getattr(actor, "is_authenticated", False) else None

    files: dict[str, bytes] = {}
    listed = []
    for doc in documents:
        pdf = _pdf_of(doc)
        pdf_name = f"pdf/{doc.number}.pdf" if pdf is not None else None
        if pdf is not None and pdf_name:
            files[pdf_name] = pdf
        listed.append(
            {
                "number": doc.number,
                "kind": doc.kind,
                "issued_on": doc.issued_on.isoformat() if doc.issued_on else None,
                "corrects": doc.corrects.number if doc.corrects else None,
                "content": doc.sealed_content,
                "previous_footprint": doc.previous_footprint,
                "footprint": doc.footprint,
                "pdf": pdf_name,
            }
        )
    files[archive.INVOICES] = archive.json_bytes({"documents": listed})
    files[archive.PAYMENTS] = archive.json_bytes({"payments": _payments(venue, start, end)})
    files[archive.CLOSING] = archive.json_bytes(
        {
            "format": archive.FORMAT,
            "software": {"name": "lieux-communs", "version": software_version()},
            "venue": {
                "slug": venue.slug,
                "name": venue.name,
                "legal_name": venue.legal_name,
                "siren": venue.siren,
            },
            "period_start": start.isoformat(),
            "period_end": end.isoformat(),
            "closed_at": closed_at.isoformat(),
            "closed_by": getattr(closed_by, "email", None),
            "document_count": totals.document_count,
            "net_amount": f"{totals.net_amount:.2f}",
            "vat_amount": f"{totals.vat_amount:.2f}",
            "gross_amount": f"{totals.gross_amount:.2f}",
            "previous_perpetual_gross_amount": f"{previous_perpetual:.2f}",
            "perpetual_gross_amount": f"{previous_perpetual + totals.gross_amount:.2f}",
            "chain_start": chain_start,
            "last_footprint": last_footprint,
            "previous_archive_sha256": previous_archive,
            "previous_closing_footprint": previous.footprint if previous else "",
        }
    )
    built = archive.build_archive(files, previous_archive_sha256=previous_archive, stamp=closed_at)
    name = archive.archive_name(venue.slug, start, end)

    closing = PeriodClosing(
        venue=venue,
        period_start=start,
        period_end=end,
        closed_at=closed_at,
        closed_by=closed_by,
        document_count=totals.document_count,
        net_amount=totals.net_amount,
        vat_amount=totals.vat_amount,
        gross_amount=totals.gross_amount,
        perpetual_gross_amount=previous_perpetual + totals.gross_amount,
        last_footprint=last_footprint,
        archive_name=name,
        archive_sha256=built.sha256,
        previous_footprint=previous.footprint if previous else "",
    )
    closing.footprint = rules.footprint(closing_content(closing), closing.previous_footprint)
    closing.save()
    audit.record(
        "billing.period.closed",
        closing,
        actor=actor,
        venue_id=venue.pk,
        period_start=start.isoformat(),
        period_end=end.isoformat(),
        document_count=totals.document_count,
        gross_amount=str(totals.gross_amount),
        archive_sha256=built.sha256,
    )
    # The archive is written before the commit under a hidden name (a full disk fails the closing, not a
    # file after it) and takes its final name once the closing row is committed.
    target = archive.archives_dir(venue.slug) / name
    staged = target.with_name(f".{name}.pending")
    pending.append(staged)
    write_atomically(staged, built.content)
    transaction.on_commit(partial(os.replace, staged, target))
    return closing


def _check_sequence(venue: Venue, start: date, end: date, previous: PeriodClosing | None) -> None:
    if previous is not None:
        follows = previous.period_end + timedelta(days=1)
        if start < follows:
            raise Conflict(
                _("The period overlaps a closed one: %(venue)s is closed up to %(end)s.")
                % {"venue": venue.name, "end": previous.period_end},
                code="period_overlap",
            )
        if start > follows:
            raise ValidationError(
                _("Closings follow each other without gap: the next period starts on %(start)s.")
                % {"start": follows},
                code="period_gap",
            )
        return
    earlier = Invoice.objects.filter(venue=venue, status=InvoiceStatus.ISSUED, issued_on__lt=start)
    first = earlier.order_by("issued_on").values_list("issued_on", flat=True).first()
    if first is not None:
        raise ValidationError(
            _(
                "Documents were issued before %(start)s: the first closing must start on %(first)s "
                "at the latest."
            )
            % {"start": start, "first": first},
            code="period_gap",
        )


def _pdf_of(invoice: Invoice) -> bytes:
    """The document as handed to the buyer (rendered now if its delivery has not run yet)."""
    from lieux.billing.services.delivery import document_for

    return bytes(document_for(invoice).pdf)


def _payments(venue: Venue, start: date, end: date) -> list[dict[str, Any]]:
    return [
        {
            "id": payment.pk,
            "document": payment.invoice.number,
            "method": payment.method,
            "amount": f"{payment.amount:.2f}",
            "received_on": payment.received_on.isoformat(),
            "reference": payment.reference,
            "external_id": payment.external_id,
            "reverses": payment.reverses_id,
            "reason": payment.reason,
            "recorded_at": payment.created_at.isoformat(),
        }
        for payment in payments_received(venue, start, end)
    ]


def verify_closings(venue_id: int | None = None) -> Iterator[Breach]:
    """Recompute each closing's footprint, its link to the previous closing and its perpetual total."""
    closings = PeriodClosing.objects.order_by("venue_id", "period_start")
    if venue_id is not None:
        closings = closings.filter(venue_id=venue_id)
    previous: dict[int, PeriodClosing] = {}
    for closing in closings.iterator():
        label = _("closing %(start)s–%(end)s") % {"start": closing.period_start, "end": closing.period_end}
        before = previous.get(closing.venue_id)
        if rules.footprint(closing_content(closing), closing.previous_footprint) != closing.footprint:
            yield Breach(closing.venue_id, label, "footprint", "the closing no longer matches its footprint")
        if closing.previous_footprint != (before.footprint if before else ""):
            yield Breach(
                closing.venue_id, label, "previous_footprint", "the chain of closings is broken before it"
            )
        expected = (before.perpetual_gross_amount if before else ZERO) + closing.gross_amount
        if closing.perpetual_gross_amount != expected:
            yield Breach(
                closing.venue_id,
                label,
                "perpetual_gross_amount",
                f"is {closing.perpetual_gross_amount}, expected {expected}",
            )
        previous[closing.venue_id] = closing
