"""The Pass Interlieux and the clearing in a real browser (Debian's chromium, driven by Playwright) against
the live server: the reception desk checks a partner's member in by badge, a member shows their pass and
takes their visits away as CSV, a network admin reads the clearing page and records a key.

The live server runs in this process, so the reception's clock is set to ten in the morning (the test
venues open from eight to eight) by patching the modules that read it. Full-page screenshots land in
test-artifacts/screenshots/ for people to look at.
"""

import csv
import io
from datetime import timedelta
from importlib import import_module

import pytest
from django.core.management import call_command
from django.db import connection, connections

from lieux.core.time import now
from lieux.interlieux.clearing.models import ClearingKey
from lieux.interlieux.clearing.services.run import run_clearing
from lieux.interlieux.clearing.tests.data import per_visit_key, visits
from lieux.interlieux.models import Visit, VisitSource
from lieux.interlieux.services.credentials import register_badge
from lieux.venues.models import Role
from tests.e2e.conftest import TIMEOUT_MS, shoot
from tests.e2e.test_billing_ui import log_in
from tests.factories import NetworkFactory, UserFactory, VenueFactory, add_role
from tests.interlieux_data import network_key, pass_plan, subscribe

pytestmark = pytest.mark.browser

BADGE = "04A21BC3"
GUARDS = (
    "lieux.interlieux.clearing.migrations.0002_closed_months_immutable",
    "lieux.billing.migrations.0002_immutable_records",
)


@pytest.fixture
def flushable_clearing_records(transactional_db):
    """SQLite flushes with DELETEs, which the triggers guarding statements and their keys refuse: lift them
    around the flush that ends the test. PostgreSQL truncates, which row triggers do not see."""
    yield
    if connection.vendor != "sqlite":
        return
    connections.close_all()
    guards = [import_module(name) for name in GUARDS]
    with connection.schema_editor() as editor:
        for guard in guards:
            guard.uninstall(None, editor)
    try:
        call_command("flush", interactive=False, verbosity=0)
    finally:
        with connection.schema_editor() as editor:
            for guard in guards:
                guard.install(None, editor)


@pytest.fixture
def network_scene(flushable_clearing_records, monkeypatch):
    """La Coroutine and Baraka in one network; Lou, a member of La Coroutine whose pass opens Baraka eight
    days a month, with a badge; Baraka's reception staff; the network's admin."""
    network = NetworkFactory()
    coroutine = VenueFactory(network=network, name="La Coroutine", slug="la-coroutine")
    baraka = VenueFactory(network=network, name="Baraka", slug="baraka", city="Roubaix")
    network_key(network)
    lou = UserFactory(email="lou@example.org", first_name="Lou", last_name="Martin")
    subscribe(pass_plan(coroutine, [baraka], days_per_month=8), lou)
    register_badge(venue=coroutine, person=lou, uid=BADGE, label="Carte de Lou")
    desk = UserFactory(email="accueil@example.org", first_name="Jérôme", last_name="Lemaire")
    add_role(desk, baraka, Role.STAFF)
    admin = UserFactory(email="reseau@example.org", first_name="Claire", last_name="Descamps")
    network.admins.add(admin)
    moment = now().astimezone(baraka.tz).replace(hour=10, minute=0, second=0, microsecond=0)
    for module in ("lieux.interlieux.services.check", "lieux.web.interlieux_views"):
        monkeypatch.setattr(f"{module}.now", lambda: moment)
    return {
        "network": network,
        "coroutine": coroutine,
        "baraka": baraka,
        "lou": lou,
        "desk": desk,
        "admin": admin,
        "moment": moment,
    }


def new_page(chromium, width: int = 1366):
    context = chromium.new_context(
        viewport={"width": width, "height": 900}, locale="fr-FR", accept_downloads=True
    )
    context.set_default_timeout(TIMEOUT_MS)
    return context, context.new_page()


def test_the_reception_checks_a_badge_in_and_shows_a_first_name_only(chromium, live_server, network_scene):
    base = live_server.url
    context, page = new_page(chromium)
    log_in(page, base, network_scene["desk"].email)

    page.click("nav.site-nav >> a[href='/gestion/']")
    page.click("a[href='/gestion/baraka/']")
    page.click("a[href='/gestion/baraka/accueil/']")
    page.wait_for_url("**/gestion/baraka/accueil/")
    # The scanner field has the focus: a keyboard-wedge reader types the UID and presses Enter.
    assert page.evaluate("document.activeElement.id") == "id_code"
    page.keyboard.type("04:a2:1b:c3")
    page.keyboard.press("Enter")
    page.wait_for_selector("#check-result.notice--success")
    assert "Lou" in page.inner_text("#check-result")
    present = page.inner_text("#present-title + .table-scroll table")
    assert "Lou" in present and "Martin" not in present and "lou@example.org" not in page.content()
    visit = Visit.objects.get()
    assert visit.venue == network_scene["baraka"] and visit.source == VisitSource.BADGE
    shoot(page, "reception-badge-welcome.png")

    # A card nobody registered is refused with its reason, and nothing is recorded.
    page.fill("#id_code", "CAFEBABE")
    page.press("#id_code", "Enter")
    page.wait_for_selector("#check-result.notice--error")
    assert "badge ou code inconnu" in page.inner_text("#check-result")
    assert Visit.objects.count() == 1
    shoot(page, "reception-unknown-badge.png")
    context.close()


def test_a_member_shows_their_pass_and_downloads_their_visits(chromium, live_server, network_scene):
    lou, coroutine, baraka = network_scene["lou"], network_scene["coroutine"], network_scene["baraka"]
    moment = network_scene["moment"]
    for days_ago, host in ((1, baraka), (2, coroutine)):
        day = (moment - timedelta(days=days_ago)).date()
        Visit.objects.create(
            person=lou,
            venue=host,
            home_venue=coroutine,
            day=day,
            first_seen_at=moment - timedelta(days=days_ago),
            last_seen_at=moment - timedelta(days=days_ago) + timedelta(hours=3),
            passages=2,
            source=VisitSource.BADGE,
        )
    base = live_server.url
    context, page = new_page(chromium, width=1280)
    log_in(page, base, lou.email)

    page.click("nav.site-nav >> a[href='/compte/abonnements/']")
    page.click("nav.subnav >> a[href='/compte/pass/']")
    page.wait_for_url("**/compte/pass/")
    qr = page.locator("section.qr svg")
    assert qr.is_visible() and qr.bounding_box()["width"] > 100
    rights = page.inner_text("#rights-title + ul")
    assert "Baraka" in rights and "La Coroutine" in rights and rights.count("✓") == 2
    shoot(page, "member-pass.png")

    page.click("a[href='/compte/pass/passages/']")
    page.wait_for_url("**/compte/pass/passages/")
    assert page.locator("table.money tbody tr").count() == 2
    with page.expect_download() as download_info:
        page.click("a[href='?format=csv']")
    download = download_info.value
    assert download.suggested_filename == "mes-passages.csv"
    with open(download.path(), encoding="utf-8") as exported:
        rows = list(csv.DictReader(io.StringIO(exported.read())))
    assert [row["venue"] for row in rows] == ["Baraka", "La Coroutine"]
    assert {row["home_venue"] for row in rows} == {"La Coroutine"}
    shoot(page, "member-visits.png")
    context.close()


def test_the_clearing_page_shows_the_heat_map_and_the_key_form_refuses_a_negative_price(
    chromium, live_server, network_scene
):
    network, coroutine, baraka = network_scene["network"], network_scene["coroutine"], network_scene["baraka"]
    mons = VenueFactory(network=network, name="Mons Fabrica", slug="mons-fabrica")
    month = (now().date().replace(day=1) - timedelta(days=1)).replace(day=1)
    visits(home=coroutine, host=baraka, count=30, month=month)
    visits(home=baraka, host=mons, count=12, month=month)
    visits(home=mons, host=coroutine, count=4, month=month)
    per_visit_key(network)
    run_clearing(network, month)
    base = live_server.url
    context, page = new_page(chromium)
    log_in(page, base, network_scene["admin"].email)

    page.click("nav.site-nav >> a[href='/gestion/']")
    page.click("#network-links a[href='/gestion/reseau/monscobar/compensation/']")
    page.wait_for_url("**/gestion/reseau/monscobar/compensation/")
    heat = page.locator("table.heatmap")
    assert heat.is_visible()
    assert page.locator("table.heatmap td.heat-5").inner_text() == "30"
    assert page.locator("#statement-title ~ .table-scroll table.money").count() == 3
    assert page.locator("figure.chart svg").count() == 2
    shoot(page, "clearing-page.png")

    page.click("#key-in-force a")
    page.wait_for_url("**/gestion/reseau/monscobar/compensation/cle/")
    page.check("input[name=method][value=per_visit]")
    page.fill("#id_unit_price", "-5")
    page.click("#key-form button[type=submit]")
    page.wait_for_selector("#key-form .field--error")
    price_field = page.locator(".field--error:has(#id_unit_price)")
    assert price_field.is_visible() and price_field.locator(".errorlist li").count() == 1
    assert ClearingKey.objects.filter(network=network).count() == 1
    shoot(page, "clearing-key-refused.png")
    context.close()
