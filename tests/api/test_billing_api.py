"""The invoices API: who reads which document, the PDF, and credit notes issued by a venue's team."""

from decimal import Decimal

import pytest

from lieux.billing.models import Invoice
from lieux.core.models import AuditEvent
from tests.api.conftest import assert_error, client_for
from tests.factories import UserFactory, add_role, organisation
from tests.invoice_data import invoice

pytestmark = pytest.mark.django_db


def documents() -> tuple[int, int]:
    """What a refused request must leave untouched: documents and audit rows."""
    return Invoice.objects.count(), AuditEvent.objects.count()


@pytest.fixture
def world(venue, other_venue, member, other_member, manager, other_manager):
    """Invoices of two venues for two members, one paid by an organisation, and a draft."""
    coop = organisation("Coop des Communs", member)
    return {
        "mine": invoice(venue, buyer=member, amount="100.00"),
        "theirs": invoice(venue, buyer=other_member, amount="50.00"),
        "coop": invoice(venue, organisation=coop, amount="300.00"),
        "elsewhere": invoice(other_venue, buyer=member, amount="70.00"),
        "draft": invoice(venue, buyer=member, amount="20.00", issued=False),
        "other_venue_only": invoice(other_venue, buyer=other_member, amount="10.00"),
    }


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


# --- Reading ---------------------------------------------------------------------------------------------


def test_a_member_lists_their_own_and_their_organisations_issued_invoices(as_member, world):
    w = world
    assert ids(as_member.get("/invoices")) == {w["mine"].pk, w["coop"].pk, w["elsewhere"].pk}


def test_a_manager_lists_every_document_of_their_venue_drafts_included(as_manager, world):
    w = world
    expected = {w["mine"].pk, w["theirs"].pk, w["coop"].pk, w["draft"].pk}
    assert ids(as_manager.get("/invoices")) == expected
    assert ids(as_manager.get("/invoices", {"status": "draft"})) == {w["draft"].pk}
    assert ids(as_manager.get("/invoices", {"status": "issued", "venue": "la-coroutine"})) == expected - {
        w["draft"].pk
    }


def test_the_venue_filter_narrows_a_members_list(as_member, world):
    assert ids(as_member.get("/invoices", {"venue": "baraka"})) == {world["elsewhere"].pk}


def test_a_manager_of_another_venue_sees_none_of_this_venues_invoices(as_other_manager, world):
    w = world
    assert ids(as_other_manager.get("/invoices")) == {w["elsewhere"].pk, w["other_venue_only"].pk}
    assert ids(as_other_manager.get("/invoices", {"venue": "la-coroutine"})) == set()


def test_the_list_is_paginated(as_manager, world):
    first = as_manager.get("/invoices", {"limit": 2}).json()
    assert first["count"] == 4 and len(first["results"]) == 2 and first["previous"] is None
    second = as_manager.client.get(first["next"], HTTP_AUTHORIZATION=f"Bearer {as_manager.raw_token}").json()
    assert len(second["results"]) == 2
    assert {r["id"] for r in first["results"]}.isdisjoint({r["id"] for r in second["results"]})


def test_one_invoice_in_detail(as_member, world, member):
    body = as_member.get(f"/invoices/{world['mine'].pk}").json()
    assert body["number"].endswith(f"-F-{world['mine'].issued_on.year}-000001")
    assert (body["net_amount"], body["vat_amount"], body["gross_amount"]) == ("100.00", "20.00", "120.00")
    assert body["buyer"]["email"] == member.email
    assert body["seller"]["name"]
    assert [line["description"] for line in body["lines"]] == ["Abonnement coworking"]
    assert body["lines"][0]["vat_rate"] == "20.00"
    assert body["pdf"] == f"/api/v1/invoices/{world['mine'].pk}/pdf"
    assert body["credit_notes"] == []


def test_an_organisations_invoice_names_the_organisation(as_member, world):
    body = as_member.get(f"/invoices/{world['coop'].pk}").json()
    assert body["buyer"]["organisation"] == world["coop"].buyer_organisation_id
    assert body["buyer"]["email"] is None


TENANCY = [
    # (who, which document, expected status)
    ("member", "mine", 200),
    ("member", "coop", 200),
    ("member", "elsewhere", 200),
    ("member", "theirs", 404),  # member A cannot read member B's invoice
    ("member", "draft", 404),  # a draft addressed to them is not an invoice yet
    ("other_member", "mine", 404),
    ("other_member", "coop", 404),  # not in the organisation
    ("manager", "theirs", 200),
    ("manager", "draft", 200),
    ("manager", "elsewhere", 404),  # manager of venue 1 cannot read venue 2's invoice
    ("other_manager", "mine", 404),
    ("other_manager", "draft", 404),
    ("other_manager", "elsewhere", 200),
    ("stranger", "mine", 404),
]


@pytest.mark.parametrize(("who", "which", "status"), TENANCY)
def test_who_reads_which_invoice(who, which, status, world, request):
    client = client_for(request.getfixturevalue(who))
    pk = world[which].pk
    response = client.get(f"/invoices/{pk}")
    if status == 404:
        assert_error(response, 404, "unknown_invoice")
        assert_error(client.get(f"/invoices/{pk}/pdf"), 404, "unknown_invoice")
    else:
        assert response.status_code == status
        assert response.json()["id"] == pk


def test_an_unknown_invoice_looks_like_anothers(as_member, world):
    assert_error(as_member.get("/invoices/999999"), 404, "unknown_invoice")


@pytest.mark.parametrize(
    "path",
    ["/invoices", "/invoices/1", "/invoices/1/pdf"],
)
def test_invoices_need_a_token(anonymous, path):
    assert_error(anonymous.get(path), 401, "unauthenticated")


@pytest.mark.parametrize(
    "params",
    [{"status": "paid-maybe"}, {"kind": "receipt"}, {"limit": 0}, {"limit": 201}, {"venue": "no such/venue"}],
)
def test_bad_filters_are_a_422(as_manager, world, params):
    assert_error(as_manager.get("/invoices", params), 422, "invalid_request")


def test_an_unknown_venue_filter_is_a_404(as_manager, world):
    assert_error(as_manager.get("/invoices", {"venue": "nowhere"}), 404, "unknown_venue")


def test_a_draft_has_no_pdf(as_manager, world):
    assert_error(as_manager.get(f"/invoices/{world['draft'].pk}/pdf"), 409, "not_issued")


# --- Credit notes ----------------------------------------------------------------------------------------


def test_a_manager_credits_a_whole_invoice(as_manager, world):
    original = world["mine"]
    response = as_manager.post(f"/invoices/{original.pk}/credit-note", {"reason": "Double facturation"})
    assert response.status_code == 201, response.content
    note = response.json()
    assert note["kind"] == "credit_note" and note["status"] == "issued"
    assert "-AV-" in note["number"]
    assert note["gross_amount"] == "120.00"
    assert note["corrects"] == {
        "id": original.pk,
        "number": original.number,
        "kind": "invoice",
        "gross_amount": "120.00",
    }
    assert note["reason"] == "Double facturation"
    detail = as_manager.get(f"/invoices/{original.pk}").json()
    assert [c["id"] for c in detail["credit_notes"]] == [note["id"]]


def test_the_buyer_sees_the_credit_note_of_their_invoice(as_manager, as_member, world):
    note = as_manager.post(f"/invoices/{world['mine'].pk}/credit-note", {"reason": "Geste commercial"}).json()
    assert note["id"] in ids(as_member.get("/invoices", {"kind": "credit_note"}))


def test_a_partial_credit_note_credits_only_its_lines(as_manager, world):
    body = {
        "reason": "Une semaine de fermeture",
        "lines": [{"description": "Fermeture du 1er au 7", "unit_net_amount": "25.00", "vat_rate": "20"}],
    }
    response = as_manager.post(f"/invoices/{world['mine'].pk}/credit-note", body)
    assert response.status_code == 201, response.content
    note = response.json()
    assert (note["net_amount"], note["vat_amount"], note["gross_amount"]) == ("25.00", "5.00", "30.00")
    assert [line["description"] for line in note["lines"]] == ["Fermeture du 1er au 7"]


def test_nobody_credits_beyond_the_invoice(as_manager, world):
    pk = world["mine"].pk
    assert as_manager.post(f"/invoices/{pk}/credit-note", {"reason": "Tout"}).status_code == 201
    before = documents()
    assert_error(
        as_manager.post(f"/invoices/{pk}/credit-note", {"reason": "Encore"}), 409, "already_credited"
    )
    assert documents() == before


def test_the_buyer_may_not_credit_their_own_invoice(as_member, world):
    before = documents()
    response = as_member.post(f"/invoices/{world['mine'].pk}/credit-note", {"reason": "Je préfère"})
    assert_error(response, 403, "not_venue_staff")
    assert documents() == before


def test_a_manager_of_another_venue_cannot_credit(as_other_manager, world):
    before = documents()
    response = as_other_manager.post(f"/invoices/{world['mine'].pk}/credit-note", {"reason": "x"})
    assert_error(response, 404, "unknown_invoice")
    assert documents() == before


def test_a_venue_staff_member_may_credit(venue, world):
    staff = UserFactory(email="accueil@example.org")
    add_role(staff, venue, "staff")
    response = client_for(staff).post(f"/invoices/{world['theirs'].pk}/credit-note", {"reason": "Erreur"})
    assert response.status_code == 201


def test_a_draft_or_a_credit_note_cannot_be_credited(as_manager, world):
    assert_error(
        as_manager.post(f"/invoices/{world['draft'].pk}/credit-note", {"reason": "x"}), 409, "not_issued"
    )
    note = as_manager.post(f"/invoices/{world['mine'].pk}/credit-note", {"reason": "x"}).json()
    before = documents()
    assert_error(as_manager.post(f"/invoices/{note['id']}/credit-note", {"reason": "y"}), 409, "not_issued")
    assert documents() == before


BAD_CREDIT_NOTES = [
    pytest.param({}, 422, "invalid_request", id="no-reason"),
    pytest.param({"reason": ""}, 422, "invalid_request", id="empty-reason"),
    pytest.param({"reason": "   "}, 422, "reason_required", id="blank-reason"),
    pytest.param({"reason": "x" * 301}, 422, "invalid_request", id="reason-too-long"),
    pytest.param({"reason": "a\x00b"}, 422, "invalid_request", id="nul-in-reason"),
    pytest.param({"reason": "x", "extra": 1}, 422, "invalid_request", id="unknown-field"),
    pytest.param({"reason": "x", "lines": []}, 422, "invalid_request", id="no-lines"),
    pytest.param(
        {"reason": "x", "lines": [{"description": "a", "unit_net_amount": "10", "vat_rate": "19"}]},
        422,
        "invalid_request",
        id="not-a-french-vat-rate",
    ),
    pytest.param(
        {"reason": "x", "lines": [{"description": "a", "unit_net_amount": "-10", "vat_rate": "20"}]},
        422,
        "invalid_request",
        id="negative-amount",
    ),
    pytest.param(
        {"reason": "x", "lines": [{"description": "a", "unit_net_amount": "1.005", "vat_rate": "20"}]},
        422,
        "invalid_request",
        id="fraction-of-a-cent",
    ),
    pytest.param(
        {"reason": "x", "lines": [{"description": "a", "unit_net_amount": "NaN", "vat_rate": "20"}]},
        422,
        "invalid_request",
        id="not-a-number",
    ),
    pytest.param(
        {
            "reason": "x",
            "lines": [{"description": "a", "unit_net_amount": "10", "vat_rate": "20", "quantity": 0}],
        },
        422,
        "invalid_request",
        id="zero-quantity",
    ),
    pytest.param(
        {"reason": "x", "lines": [{"description": "a", "unit_net_amount": "0", "vat_rate": "20"}]},
        422,
        "nothing_to_invoice",
        id="nothing-to-credit",
    ),
]


@pytest.mark.parametrize(("body", "status", "code"), BAD_CREDIT_NOTES)
def test_bad_credit_notes_are_refused_and_write_nothing(as_manager, world, body, status, code):
    before = documents()
    assert_error(as_manager.post(f"/invoices/{world['mine'].pk}/credit-note", body), status, code)
    assert documents() == before


def test_a_malformed_body_is_a_400(as_manager, world):
    before = documents()
    response = as_manager.post(f"/invoices/{world['mine'].pk}/credit-note", raw="{not json")
    assert_error(response, 400, "malformed_json")
    assert documents() == before


def test_amounts_are_decimal_strings_never_floats(as_member, world):
    body = as_member.get(f"/invoices/{world['mine'].pk}").json()
    for key in ("net_amount", "vat_amount", "gross_amount"):
        assert isinstance(body[key], str)
        assert Decimal(body[key]) == Decimal(body[key]).quantize(Decimal("0.01"))


def test_an_organisation_member_who_joins_later_sees_its_past_invoices(world, venue):
    newcomer = UserFactory(email="nouvelle@example.org")
    coop = world["coop"].buyer_organisation
    client = client_for(newcomer)
    assert_error(client.get(f"/invoices/{world['coop'].pk}"), 404, "unknown_invoice")
    coop.members.add(newcomer)
    assert client.get(f"/invoices/{world['coop'].pk}").status_code == 200
