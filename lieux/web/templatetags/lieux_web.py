from django import template

from lieux.booking.rules import human_duration
from lieux.venues.models import Audience, PriceUnit
from lieux.web import access, reads

register = template.Library()


@register.simple_tag(takes_context=True)
def runs_a_venue(context) -> bool:
    """Whether the viewer is on the team of at least one venue (to show the management link)."""
    request = context.get("request")
    return request is not None and bool(access.staffed_ids(request))


@register.simple_tag(takes_context=True)
def current_network(context):
    """The network this installation serves, for the header; once per request."""
    request = context.get("request")
    if request is None:
        return reads.the_network()
    if not hasattr(request, "_lieux_network"):
        request._lieux_network = reads.the_network()
    return request._lieux_network


@register.filter
def hours_minutes(value) -> str:
    """A timedelta as "1 h 30", "45 min" or "2 h"."""
    return human_duration(value)


@register.simple_tag
def price_rows(resource) -> list[tuple[str, object, object]]:
    """(unit, member price, public price) for each unit the resource has a price for, hour first.
    Reads the prices the resource selector prefetched."""
    by_unit: dict[str, dict[str, object]] = {}
    for price in resource.prices.all():
        by_unit.setdefault(price.unit, {})[price.audience] = price.net_amount
    return [
        (str(label), by_unit[unit].get(Audience.MEMBER), by_unit[unit].get(Audience.PUBLIC))
        for unit, label in PriceUnit.choices
        if unit in by_unit
    ]


INK = "#1c2430"


def _luminance(hex_colour: str) -> float | None:
    """WCAG relative luminance of "#rrggbb", None for anything else."""
    value = hex_colour.strip().lstrip("#")
    if len(value) != 6:
        return None
    try:
        channels = [int(value[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    except ValueError:
        return None
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


@register.filter
def ink_on(colour: str) -> str:
    """White or near-black, whichever reads better on a resource's colour (venues pick any colour)."""
    luminance = _luminance(colour or "")
    if luminance is None:
        return "#ffffff"
    ink_luminance = _luminance(INK) or 0.0
    on_white = 1.05 / (luminance + 0.05)
    on_ink = (luminance + 0.05) / (ink_luminance + 0.05)
    return "#ffffff" if on_white >= on_ink else INK
