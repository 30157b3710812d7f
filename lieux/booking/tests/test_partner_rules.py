"""Pricing at a partner venue: the discount comes off the public rate, never stacks on a member rate."""

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from lieux.booking.partner_rules import PartnerPrice, PartnerTerms, best_terms, discounted, partner_price

D = Decimal
amounts = st.decimals(min_value=0, max_value=100_000, places=2)
percents = st.decimals(min_value=0, max_value=100, places=2)


def terms(subscription_id, percent, credits=False):
    return PartnerTerms(
        home_venue_id=1,
        home_venue_name="La Coroutine",
        subscription_id=subscription_id,
        discount_percent=D(percent),
        credits_allowed=credits,
    )


def test_the_discount_comes_off_the_public_rate_to_the_cent():
    assert discounted(D("30.00"), D(20)) == D("24.00")
    assert discounted(D("12.35"), D("12.5")) == D("10.81")  # 10.80625, half up
    assert partner_price(regular=D(30), public=D(30), percent=D(20)) == PartnerPrice(D("24.00"), D(20))


def test_a_member_of_the_host_pays_the_lower_rate_and_the_discount_never_stacks():
    # Member rate 20 €, public 30 €: 20 % off the public rate (24 €) does not beat the member rate.
    assert partner_price(regular=D(20), public=D(30), percent=D(20)) == PartnerPrice(D(20), None)
    # 50 % off (15 €) does.
    assert partner_price(regular=D(20), public=D(30), percent=D(50)) == PartnerPrice(D("15.00"), D(50))


def test_no_public_rate_or_no_discount_leaves_the_price_alone():
    assert partner_price(regular=D(20), public=None, percent=D(20)) == PartnerPrice(D(20), None)
    assert partner_price(regular=None, public=None, percent=D(20)) == PartnerPrice(None, None)
    assert partner_price(regular=D(30), public=D(30), percent=D(0)) == PartnerPrice(D(30), None)


def test_the_largest_discount_wins_then_credits_then_the_oldest_subscription():
    assert best_terms([]) is None
    assert best_terms([terms(1, 10), terms(2, 20)]).subscription_id == 2
    assert best_terms([terms(1, 20), terms(2, 20, credits=True)]).subscription_id == 2
    assert best_terms([terms(3, 20), terms(2, 20)]).subscription_id == 2


@given(public=amounts, member=st.none() | amounts, percent=percents)
def test_a_pass_never_makes_a_booking_dearer_nor_negative(public, member, percent):
    regular = public if member is None else member
    price = partner_price(regular=regular, public=public, percent=percent)
    assert price.net_amount is not None
    assert D(0) <= price.net_amount <= regular
    assert price.net_amount == price.net_amount.quantize(D("0.01"))
    if price.discount_percent is not None:
        assert price.discount_percent == percent > 0
        assert price.net_amount == discounted(public, percent) < regular
    else:
        assert price.net_amount == regular


@given(amount=amounts, low=percents, high=percents)
def test_a_larger_discount_never_costs_more(amount, low, high):
    low, high = min(low, high), max(low, high)
    assert discounted(amount, high) <= discounted(amount, low)
    assert discounted(amount, D(100)) == 0 and discounted(amount, D(0)) == amount
