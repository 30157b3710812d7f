"""Recomputing the footprint chain of issued documents (`lieux billing verify`)."""

from collections.abc import Iterator
from dataclasses import dataclass

from lieux.billing import rules
from lieux.billing.models import Invoice, InvoiceStatus
from lieux.billing.services.issue import sealed_content


@dataclass(frozen=True)
class Breach:
    venue_id: int
    number: str
    field: str
    detail: str

    def __str__(self) -> str:
        return f"{self.number}: {self.field}: {self.detail}"


def verify(venue_id: int | None = None) -> Iterator[Breach]:
    """Yield every breach found, document by document in issue order, per venue.

    Three checks per document: its live columns (and lines) against its sealed content, which names the
    altered field; its sealed content against its footprint; its previous footprint against the document
    before it."""
    issued = Invoice.objects.filter(status=InvoiceStatus.ISSUED).order_by("venue_id", "issued_at", "id")
    if venue_id is not None:
        issued = issued.filter(venue_id=venue_id)
    previous: dict[int, str] = {}
    for invoice in issued.prefetch_related("lines").iterator(chunk_size=500):
        live = sealed_content(invoice, list(invoice.lines.all()))
        sealed = invoice.sealed_content
        for field in sorted(set(live) | set(sealed)):
            if live.get(field) != sealed.get(field):
                yield Breach(
                    invoice.venue_id,
                    invoice.number or "?",
                    field,
                    f"is {live.get(field)!r}, sealed as {sealed.get(field)!r}",
                )
        if rules.footprint(sealed, invoice.previous_footprint) != invoice.footprint:
            yield Breach(
                invoice.venue_id,
                invoice.number or "?",
                "footprint",
                "the sealed content no longer matches its footprint",
            )
        expected_previous = previous.get(invoice.venue_id, "")
        if invoice.previous_footprint != expected_previous:
            yield Breach(
                invoice.venue_id,
                invoice.number or "?",
                "previous_footprint",
                "the chain is broken before this document (one was removed or re-sealed)",
            )
        previous[invoice.venue_id] = invoice.footprint
