"""Rendering and e-mailing an issued invoice, after its transaction commits.

The rendered document is written once (one row per invoice, frozen by the database): whoever renders it
first wins and every later caller gets that same PDF. E-mailing claims the document's `emailed_at` with a
conditional UPDATE before sending, so two deliveries of the same invoice (the after-commit hook and the
periodic catch-up, two workers…) never send it twice."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext as _

from lieux.billing.errors import NotIssued
from lieux.billing.models import Invoice, InvoiceDocument, InvoiceStatus
from lieux.core.time import now

log = logging.getLogger("lieux.billing.delivery")

# The catch-up leaves recent documents to their after-commit delivery, and gives up on old ones.
CATCH_UP_AFTER = timedelta(minutes=10)
CATCH_UP_WITHIN = timedelta(days=7)
CATCH_UP_BATCH = 200


def document_for(invoice: Invoice) -> InvoiceDocument:
    """The rendered PDF/A-3 + Factur-X document of an issued invoice, rendered now if it was not yet."""
    existing = InvoiceDocument.objects.filter(invoice_id=invoice.pk).first()
    if existing is not None:
        return existing
    if not invoice.is_issued:
        raise NotIssued(_("A draft has no PDF: issue it first."))
    from lieux.billing.documents.pdf import render  # WeasyPrint loads only where documents are rendered

    rendered = render(invoice)
    try:
        with transaction.atomic():
            return InvoiceDocument.objects.create(
                invoice=invoice, pdf=rendered.pdf, xml=rendered.xml, sha256=rendered.sha256
            )
    except IntegrityError:  # rendered meanwhile by a concurrent caller: theirs is the document
        return InvoiceDocument.objects.get(invoice_id=invoice.pk)


def recipient_of(invoice: Invoice) -> str:
    """The buyer's billing address as snapshotted at issue, else the account of the person invoiced."""
    email = (invoice.buyer or {}).get("email") or ""
    if not email and invoice.buyer_user_id:
        email = invoice.buyer_user.email if invoice.buyer_user else ""
    return email


def deliver(invoice_id: int) -> bool:
    """Render the document of an issued invoice and e-mail it to the buyer, once. Returns whether this call
    sent it. Runs after commit: a failure is logged and left to the periodic catch-up, never raised into
    the request that issued the invoice."""
    try:
        return _deliver(invoice_id)
    except Exception:
        log.exception("delivery of invoice %s failed; the catch-up job will retry it", invoice_id)
        return False


def _deliver(invoice_id: int) -> bool:
    invoice = (
        Invoice.objects.select_related("venue", "buyer_user", "corrects")
        .filter(pk=invoice_id, status=InvoiceStatus.ISSUED)
        .first()
    )
    if invoice is None:
        return False
    document = document_for(invoice)
    recipient = recipient_of(invoice)
    if document.emailed_at is not None or not recipient:
        return False
    claimed_at = now()
    if not _claim(document, claimed_at):
        return False  # another delivery sent it
    try:
        _message(invoice, document, recipient).send()
    except Exception:
        # Not sent: release the claim so that the catch-up sends it later.
        InvoiceDocument.objects.filter(pk=document.pk, emailed_at=claimed_at).update(emailed_at=None)
        raise
    return True


def _claim(document: InvoiceDocument, claimed_at: datetime) -> bool:
    """Mark the document as e-mailed before sending it. One conditional UPDATE: of several deliveries
    racing, only one sees its row change."""
    return bool(
        InvoiceDocument.objects.filter(pk=document.pk, emailed_at__isnull=True).update(emailed_at=claimed_at)
    )


def _message(invoice: Invoice, document: InvoiceDocument, recipient: str) -> EmailMessage:
    venue_name = invoice.seller.get("name") or invoice.venue.name
    with translation.override("fr"):
        context = {
            "number": invoice.number,
            "venue": venue_name,
            "amount": f"{invoice.gross_amount:.2f}".replace(".", ","),
            "due_on": f"{invoice.due_on:%d/%m/%Y}" if invoice.due_on else "",
        }
        if invoice.is_credit_note:
            subject = _("Credit note %(number)s from %(venue)s") % context
            body = (
                _(
                    "Hello,\n\nPlease find attached credit note %(number)s from %(venue)s, for %(amount)s € "
                    "including VAT.\n\nThe PDF contains its Factur-X electronic version.\n\n%(venue)s"
                )
                % context
            )
        else:
            subject = _("Invoice %(number)s from %(venue)s") % context
            body = (
                _(
                    "Hello,\n\nPlease find attached invoice %(number)s from %(venue)s, for %(amount)s € "
                    "including VAT, due on %(due_on)s.\n\nThe PDF contains its Factur-X electronic "
                    "version.\n\n%(venue)s"
                )
                % context
            )
    venue_email = invoice.seller.get("email") or ""
    message = EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[recipient],
        reply_to=[venue_email] if venue_email else None,
    )
    message.attach(f"{invoice.number}.pdf", bytes(document.pdf), "application/pdf")
    return message


def deliver_pending() -> int:
    """Deliver the documents whose after-commit delivery did not happen (a crash between the commit and
    the e-mail, a mail server down): issued in the last days, not rendered or not e-mailed yet. Returns
    how many were sent."""
    if not getattr(settings, "LIEUX_DELIVER_INVOICES", True):
        return 0
    moment = now()
    pending = (
        Invoice.objects.filter(
            status=InvoiceStatus.ISSUED,
            issued_at__lte=moment - CATCH_UP_AFTER,
            issued_at__gte=moment - CATCH_UP_WITHIN,
        )
        .filter(Q(document__isnull=True) | Q(document__emailed_at__isnull=True))
        # Only documents someone can receive (see recipient_of), so that the batch is not filled forever
        # by organisations without a billing address.
        .filter(Q(buyer_user__isnull=False) | ~Q(buyer__email=""))
        .order_by("issued_at")
        .values_list("pk", flat=True)[:CATCH_UP_BATCH]
    )
    return sum(deliver(pk) for pk in list(pending))
