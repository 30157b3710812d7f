"""What the contributions pages need to know to offer the set-up links to those who may follow them; the
pages behind the links check again."""

from django import template

from lieux.contributions.models import Budget
from lieux.contributions.selectors import setup as setup_selectors

register = template.Library()


@register.simple_tag
def runs_a_venue(user) -> bool:
    """Whether `user` may create budgets and rounds and set up the network (they run one of its venues)."""
    return setup_selectors.setup_network(user) is not None


@register.filter
def activities_editable_by(budget: Budget, user) -> bool:
    return setup_selectors.may_manage_activities(user, network_id=budget.network_id, budget=budget)
