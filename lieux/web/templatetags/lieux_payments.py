"""Payments and mandates as the money screens print them."""

from django import template

from lieux.billing.services.mandates import mask_iban
from lieux.billing.services.payments import Settlement

register = template.Library()


@register.filter
def settlement_label(state: str) -> str:
    """unpaid/partial/paid/overpaid → the words people read."""
    return str(Settlement.LABELS.get(state, state))


@register.filter
def masked_iban(iban: str) -> str:
    """Enough of an account number to recognise it, not to reuse it: FR76…0189."""
    return mask_iban(iban or "")
