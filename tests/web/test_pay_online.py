"""The member's "Pay online" button: to the provider's page for their own unpaid invoice, back to the
invoice with a message when there is nothing to pay, a 404 for someone else's."""

import pytest

from lieux.billing.models import PaymentMethod
from lieux.billing.models.payments import PaymentAttempt
from lieux.billing.providers import stripe as stripe_provider
from lieux.billing.services.payments import record_payment
from lieux.billing.tests.stripe_data import FakeStripeHTTP, configure
from lieux.core.time import now
from tests.invoice_data import invoice
from tests.web.conftest import client_for


@pytest.fixture
def http(settings, monkeypatch) -> FakeStripeHTTP:
    configure(settings)
    fake = FakeStripeHTTP()
    monkeypatch.setattr(stripe_provider, "default_http_client", fake)
    return fake


def test_the_member_is_sent_to_the_payment_page_of_their_invoice(member, venue, http):
    bill = invoice(venue, buyer=member)
    response = client_for(member).post(f"/compte/factures/{bill.pk}/payer/")
    assert response.status_code == 302
    assert response["Location"].startswith("https://checkout.stripe.com/c/pay/cs_test_")
    assert http.requests[0]["form"]["success_url"] == f"http://testserver/compte/factures/{bill.pk}/"
    assert PaymentAttempt.objects.get(invoice=bill).status == "open"


def test_a_paid_invoice_comes_back_with_a_message_and_another_members_is_a_404(
    member, other_member, venue, http
):
    bill = invoice(venue, buyer=member)
    record_payment(bill, amount=bill.gross_amount, method=PaymentMethod.TRANSFER, received_on=now().date())
    response = client_for(member).post(f"/compte/factures/{bill.pk}/payer/", follow=True)
    assert response.redirect_chain[-1][0] == f"/compte/factures/{bill.pk}/"
    assert "Nothing is left to pay on this invoice." in response.content.decode()
    assert client_for(other_member).post(f"/compte/factures/{bill.pk}/payer/").status_code == 404
    assert client_for(member).get(f"/compte/factures/{bill.pk}/payer/").status_code == 405
    assert not PaymentAttempt.objects.exists() and http.requests == []


def test_the_invoice_page_offers_online_payment_only_when_configured_and_something_is_due(
    member, venue, settings
):
    bill = invoice(venue, buyer=member)
    action = f'action="/compte/factures/{bill.pk}/payer/"'
    settings.STRIPE_SECRET_KEY = settings.STRIPE_WEBHOOK_SECRET = ""
    assert action not in client_for(member).get(f"/compte/factures/{bill.pk}/").content.decode()
    configure(settings)
    assert action in client_for(member).get(f"/compte/factures/{bill.pk}/").content.decode()
    record_payment(bill, amount=bill.gross_amount, method=PaymentMethod.TRANSFER, received_on=now().date())
    assert action not in client_for(member).get(f"/compte/factures/{bill.pk}/").content.decode()
