"""The money screens in a real browser (Debian's chromium, driven by Playwright) against the live server: a
venue's manager previews the month's billing run, confirms it and finds the invoices; a member looks at
their subscription, the amounts of a plan change before confirming it, their credits and their invoices.

Full-page screenshots land in test-artifacts/screenshots/ for people to look at.
"""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from lieux.billing.models import Invoice, Payment
from lieux.memberships.models import CreditEntry, CreditLot, Subscription
from lieux.memberships.services.subscriptions import subscribe
from tests.credits_data import credit_type
from tests.e2e.conftest import PASSWORD, TIMEOUT_MS, shoot
from tests.factories import UserFactory, VenueFactory, add_role, organisation
from tests.invoice_data import invoice, plan

pytestmark = pytest.mark.browser


def last_month_start(today: date) -> date:
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


@pytest.fixture
def coroutine(flushable_legal_records):
    """A venue with three plans, three members subscribed since last month on their cooperative's account
    (their second month is due), a member subscribed today with credits and an invoice for a room."""
    venue = VenueFactory(name="La Coroutine", slug="la-coroutine", city="Lille", street="12 rue des Arts")
    coworking = plan(
        venue, slug="coworking", name="Coworking au mois", prices=(("2020-01-01", "150"),), proration="by_day"
    )
    plan(venue, slug="nomade", name="Nomade (10 jours)", prices=(("2020-01-01", "60"),), proration="by_day")
    plan(
        venue,
        slug="adhesion",
        name="Adhésion annuelle",
        kind="membership_fee",
        interval="year",
        prices=(("2020-01-01", "20"),),
        vat_rate=Decimal(0),
    )
    member = UserFactory(email="camille@example.org", first_name="Camille", last_name="Martin")
    add_role(member, venue)
    manager = UserFactory(email="sacha@example.org", first_name="Sacha", last_name="Durand")
    add_role(manager, venue, "manager")
    coop = organisation("Coop des Communs")
    start = last_month_start(date.today())
    subscription = subscribe(plan=coworking, member=member, actor=member)
    for name in ("Alix", "Dominique", "Noor"):
        person = UserFactory(email=f"{name.lower()}@example.org", first_name=name, last_name="Test")
        add_role(person, venue)
        coop.members.add(person)
        subscribe(plan=coworking, member=person, starts_on=start, payer_organisation=coop, actor=None)
    invoice(venue, buyer=member, amount="45.00", description="Location Salle Ada, 3 heures")
    kind = credit_type(venue, "salle", "Heures de salle de réunion")
    lot = CreditLot.objects.create(
        venue=venue,
        person=member,
        credit_type=kind,
        granted=Decimal(10),
        remaining=Decimal("6.5"),
        granted_on=date.today() - timedelta(days=10),
        expires_on=date.today() + timedelta(days=20),
        source_key="e2e:1",
    )
    CreditEntry.objects.create(
        lot=lot, kind="grant", quantity=Decimal(10), reference="subscription", note="Mois"
    )
    CreditEntry.objects.create(lot=lot, kind="consume", quantity=Decimal("-3.5"), reference="booking:1")
    return {"venue": venue, "member": member, "manager": manager, "subscription": subscription}


def log_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/comptes/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form:has(input[name=password]) button[type=submit]")
    page.wait_for_url(f"{base}/")


def test_a_manager_previews_the_billing_run_then_issues_it(chromium, live_server, coroutine):
    base = live_server.url
    context = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="fr-FR")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    log_in(page, base, coroutine["manager"].email)
    before = Invoice.objects.filter(status="issued").count()

    # From the management home to the venue's billing run.
    page.click("nav.site-nav >> a[href='/gestion/']")
    page.click("text=La Coroutine")
    page.wait_for_url("**/gestion/la-coroutine/")
    page.click("a[href='/gestion/la-coroutine/facturation/']")
    page.wait_for_url("**/gestion/la-coroutine/facturation/")
    assert page.input_value("#id_period") == f"{date.today():%Y-%m}"

    # The preview says what would be issued; nothing is written.
    page.click("button[value=preview]")
    page.wait_for_selector("#report")
    report = page.inner_text("#report")
    assert page.inner_text("#report dl dd:nth-of-type(2)").strip() == "3"
    assert "540,00" in report  # 3 × 150 € excl. VAT + 20 % VAT
    assert Invoice.objects.filter(status="issued").count() == before
    shoot(page, "billing-run-preview.png")

    # Confirmed, the run issues the three invoices and lists them.
    page.click("#report button[value=run]")
    page.wait_for_selector(".message--success")
    assert Invoice.objects.filter(status="issued").count() == before + 3
    issued = page.locator("#report ul.plain li")
    assert issued.count() == 3
    shoot(page, "billing-run-done.png")

    # The invoices page shows this month's column and the new numbers.
    page.click("nav.subnav >> a[href='/gestion/la-coroutine/factures/']")
    page.wait_for_url("**/gestion/la-coroutine/factures/")
    assert page.locator("figure.chart svg rect").count() >= 1
    assert page.locator("table.money tbody tr").count() >= 5
    shoot(page, "venue-invoices.png")
    context.close()


def test_a_member_changes_plan_after_seeing_the_amounts_then_finds_credits_and_invoices(
    chromium, live_server, coroutine
):
    base = live_server.url
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    log_in(page, base, coroutine["member"].email)

    page.click("nav.site-nav >> a[href='/compte/abonnements/']")
    page.wait_for_url("**/compte/abonnements/")
    assert "Coworking au mois" in page.inner_text("main")
    shoot(page, "member-subscription.png")

    # Changing plan shows the money first (htmx swaps the amounts in as soon as a plan is chosen); the
    # subscription changes only on confirmation.
    subscription = coroutine["subscription"]
    page.click(f"a[href='/compte/abonnements/{subscription.pk}/changer/']")
    page.wait_for_url(f"**/compte/abonnements/{subscription.pk}/changer/")
    page.check("label:has-text('Nomade') input")
    page.wait_for_selector("#quote")
    assert page.url.endswith("/changer/")
    assert "72,00" in page.inner_text("#quote")  # the next month on Nomade, 60 € + 20 % VAT
    assert Subscription.objects.get(pk=subscription.pk).plan.slug == "coworking"
    shoot(page, "member-plan-change-quote.png")
    page.click("button[name=confirm]")
    page.wait_for_url(f"**/compte/abonnements/{subscription.pk}/")
    assert page.locator(".message--success").is_visible()
    assert Subscription.objects.get(pk=subscription.pk).plan.slug == "nomade"

    page.click("nav.subnav >> a[href='/compte/credits/']")
    page.wait_for_url("**/compte/credits/")
    assert "6,5" in page.inner_text(".meters")
    shoot(page, "member-credits.png")

    page.click("nav.subnav >> a[href='/compte/factures/']")
    page.wait_for_url("**/compte/factures/")
    # The first month, the room hire, then the plan change: a credit note and the new plan's invoice.
    assert page.locator("table.money tbody tr").count() == 4
    shoot(page, "member-invoices.png")
    context.close()


def test_a_manager_records_a_partial_payment_and_sees_the_invoice_partly_paid(
    chromium, live_server, coroutine
):
    base = live_server.url
    bill = Invoice.objects.get(venue=coroutine["venue"], lines__description__startswith="Location Salle Ada")
    context = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="fr-FR")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    log_in(page, base, coroutine["manager"].email)

    page.goto(f"{base}/gestion/la-coroutine/factures/")
    page.click(f"#invoice-list a:has-text('{bill.number}')")
    page.wait_for_url(f"**/gestion/la-coroutine/factures/{bill.pk}/")
    assert page.inner_text(".page-head .badge--unpaid").strip() == "Non payée"
    # The amount offered is what is due: 45 € + 20 % VAT.
    assert page.input_value("#id_amount") == "54.00"

    page.select_option("#id_method", "cheque")
    page.fill("#id_amount", "20.00")
    page.fill("#id_reference", "Chèque n° 0004521")
    page.click("#record-payment button[type=submit]")
    page.wait_for_selector(".message--success")
    assert page.inner_text(".page-head .badge--partial").strip() == "Partiellement payée"
    assert "34,00" in page.inner_text("#amount-due")
    assert "Chèque n° 0004521" in page.inner_text("#payment-list")
    assert Payment.objects.get(invoice=bill).amount == Decimal("20.00")
    shoot(page, "manager-partial-payment.png")

    # The payments tab lists it, and the invoices list carries the same badge.
    page.click("nav.subnav >> a[href='/gestion/la-coroutine/paiements/']")
    page.wait_for_url("**/gestion/la-coroutine/paiements/")
    assert "Chèque n° 0004521" in page.inner_text("main")
    page.click("nav.subnav >> a[href='/gestion/la-coroutine/factures/']")
    assert page.locator("#invoice-list .badge--partial").count() == 1
    context.close()
