"""Money, quantities and subscription history, as the money screens print them."""

from datetime import date
from decimal import Decimal, InvalidOperation

from django import template
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _

from lieux.memberships.models import SubscriptionStatus

register = template.Library()


@register.filter
def euros(value) -> str:
    """1234.5 → "1 234,50 €" in French, "1,234.50 €" in English; empty for no value."""
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return ""
    return f"{number_format(amount, 2, force_grouping=True)}\u00a0€"


@register.filter
def quantity(value) -> str:
    """A quantity or a rate without trailing zeros: 1.000 → "1", 5.50 → "5,5"."""
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return ""
    text = format(amount.normalize(), "f")  # "5.5", "100", "0.25"
    places = len(text.split(".")[1]) if "." in text else 0
    return number_format(amount, places)


def _status(value: str) -> str:
    return str(dict(SubscriptionStatus.choices).get(value, value))


def _day(value: object) -> str:
    try:
        return date_format(date.fromisoformat(str(value)), "j F Y")
    except (TypeError, ValueError):
        return str(value)


@register.filter
def subscription_event(event) -> str:
    """One line of a subscription's log, in words."""
    data = event.data or {}
    if event.kind == "transition":
        if event.from_status:
            return _("%(old)s → %(new)s") % {
                "old": _status(event.from_status),
                "new": _status(event.to_status),
            }
        return _("Subscribed (%(status)s)") % {"status": _status(event.to_status)}
    if event.kind == "invoice":
        label = _("Credit note") if data.get("document") == "credit_note" else _("Invoice")
        return f"{label} {data.get('number') or ''} — {euros(data.get('gross_amount'))}"
    if event.kind == "payment":
        return _("Payment of %(amount)s for %(number)s") % {
            "amount": euros(data.get("amount")),
            "number": data.get("number") or "",
        }
    if event.kind == "period":
        return _("New period %(start)s – %(end)s") % {
            "start": _day(data.get("start")),
            "end": _day(data.get("end")),
        }
    if event.kind == "plan_changed":
        return _("Plan changed")
    if event.kind == "plan_change_scheduled":
        return _("Plan change planned for %(day)s") % {"day": _day(data.get("effective_on"))}
    if event.kind == "plan_change_cancelled":
        return _("Planned plan change withdrawn")
    if event.kind == "cancel_scheduled":
        return _("Ends on %(day)s") % {"day": _day(data.get("ends_on"))}
    if event.kind == "cancel_undone":
        return _("Notice taken back")
    return str(event.kind)


@register.filter
def absolute(value):
    """The size of an amount, whatever its sign (a refund is printed as what comes back)."""
    try:
        return abs(Decimal(value))
    except (InvalidOperation, TypeError, ValueError):
        return value
