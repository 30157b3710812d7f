"""Overdue reminders: e-mailed to the buyer at +7, +21 and +45 days past the due date.

A reminder is claimed by inserting its (invoice, level) row before the e-mail goes out; the unique
constraint makes a second worker's insert fail, so a reminder is never sent twice. A failed e-mail deletes
the claim again, and the next daily run retries it.
"""

import logging
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from lieux.billing.models import BillingProfile, DirectDebit, DirectDebitStatus, Invoice, Reminder
from lieux.billing.models.invoices import PastDueAccess
from lieux.billing.overdue import unpaid_invoices
from lieux.billing.payment_rules import REMINDER_DAYS, reminder_level_due
from lieux.billing.services.delivery import recipient_of
from lieux.billing.services.payments import balance
from lieux.core import audit
from lieux.core.money import ZERO
from lieux.core.time import now

log = logging.getLogger("lieux.billing.reminders")

LAST_LEVEL = len(REMINDER_DAYS)


def send_due_reminders(today: date | None = None) -> int:
    """Send the reminders due today (each venue's own date when `today` is not given). Invoices being
    collected by direct debit wait for the bank. Returns how many were sent."""
    latest_today = today or (now() + timedelta(days=1)).date()
    debiting = DirectDebit.objects.filter(
        status__in=[DirectDebitStatus.ANNOUNCED, DirectDebitStatus.SUBMITTED]
    ).values("invoice_id")
    candidates = (
        unpaid_invoices()
        .filter(due_on__lte=latest_today - timedelta(days=REMINDER_DAYS[0]))
        .exclude(pk__in=debiting)
        .prefetch_related("reminders")
    )
    sent = 0
    for invoice in candidates:
        day = today or now().astimezone(invoice.venue.tz).date()
        assert invoice.due_on is not None  # issued invoices have one
        level = reminder_level_due(invoice.due_on, day, {r.level for r in invoice.reminders.all()})
        if level is None:
            continue
        sent += send_reminder(invoice, level)
    return sent


def send_reminder(invoice: Invoice, level: int) -> bool:
    """Claim reminder `level` of the invoice and e-mail it; False when it was sent already (or is being
    sent by another worker), when the invoice is paid, or when the buyer has no address."""
    left = balance(invoice).due
    recipient = recipient_of(invoice)
    if left <= ZERO or not recipient:
        return False
    try:
        with transaction.atomic():
            reminder = Reminder.objects.create(invoice=invoice, level=level)
            audit.record(
                "billing.reminder.sent",
                reminder,
                venue_id=invoice.venue_id,
                invoice=invoice.number,
                level=level,
                amount_due=str(left),
            )
    except IntegrityError:
        return False  # this level went out already
    try:
        _message(invoice, level, left, recipient).send()
    except Exception:
        with transaction.atomic():
            Reminder.objects.filter(pk=reminder.pk).delete()
        log.exception("reminder %s of invoice %s not sent; retried next run", level, invoice.number)
        return False
    return True


def _amount(value: Decimal) -> str:
    return f"{value:.2f}".replace(".", ",")


def _message(invoice: Invoice, level: int, left: Decimal, recipient: str) -> EmailMessage:
    profile = BillingProfile.objects.filter(venue_id=invoice.venue_id).first()
    venue_name = invoice.seller.get("name") or invoice.venue.name
    with translation.override("fr"):
        context = {
            "number": invoice.number,
            "venue": venue_name,
            "issued_on": f"{invoice.issued_on:%d/%m/%Y}" if invoice.issued_on else "",
            "due_on": f"{invoice.due_on:%d/%m/%Y}" if invoice.due_on else "",
            "left": _amount(left),
            "gross": _amount(invoice.gross_amount),
        }
        if level == 1:
            subject = _("Reminder: invoice %(number)s from %(venue)s is overdue") % context
        elif level < LAST_LEVEL:
            subject = _("Second reminder: invoice %(number)s from %(venue)s is still unpaid") % context
        else:
            subject = _("Last reminder: invoice %(number)s from %(venue)s is still unpaid") % context
        paragraphs = [
            _("Hello,"),
            _(
                "Unless we are mistaken, invoice %(number)s of %(issued_on)s, due on %(due_on)s, still has "
                "%(left)s € to pay (out of %(gross)s € including VAT)."
            )
            % context,
        ]
        if profile and profile.iban:
            paragraphs.append(
                _("You can pay it by bank transfer to %(iban)s, quoting the invoice number.")
                % {"iban": profile.iban}
            )
        if invoice.is_business and profile:
            paragraphs.append(
                _(
                    "Late payment penalties run at the rate of %(rate)s, plus a fixed indemnity of 40 € "
                    "for recovery costs (French Commercial Code, art. L441-10 and D441-5)."
                )
                % {"rate": profile.late_penalty_rate}
            )
        if level == LAST_LEVEL and profile and profile.past_due_access != PastDueAccess.KEEP:
            paragraphs.append(
                _("Until it is paid, %(venue)s will suspend your access: %(policy)s.")
                % {"venue": venue_name, "policy": str(PastDueAccess(profile.past_due_access).label).lower()}
            )
        paragraphs += [_("If you have paid it meanwhile, please ignore this message."), venue_name]
    venue_email = invoice.seller.get("email") or ""
    return EmailMessage(
        subject=subject,
        body="\n\n".join(str(p) for p in paragraphs),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[recipient],
        reply_to=[venue_email] if venue_email else None,
    )
