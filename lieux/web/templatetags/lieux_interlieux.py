from django import template

from lieux.interlieux.clearing import selectors as clearing_selectors

register = template.Library()

_ATTRIBUTE = "_lieux_clearing_networks"


@register.simple_tag(takes_context=True)
def clearing_networks(context) -> list:
    """The networks whose clearing page the viewer may open (network admins, venue managers), once per
    request: the management pages link to it only for them, as the page itself answers 404 to others."""
    request = context.get("request")
    if request is None:
        return []
    if not hasattr(request, _ATTRIBUTE):
        networks = clearing_selectors.networks_visible_to(request.user).order_by("name")
        setattr(request, _ATTRIBUTE, list(networks))
    return getattr(request, _ATTRIBUTE)
