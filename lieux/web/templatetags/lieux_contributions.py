"""Words of the contributions pages that the rows do not carry themselves."""

from django import template

from lieux.contributions.models import ContributionStatus

register = template.Library()


@register.filter
def status_label(value: str) -> str:
    """A contribution's status code in words, in the reader's language."""
    try:
        return str(ContributionStatus(value).label)
    except ValueError:
        return value
