"""The projects and contributions API: listing and creating projects, declaring, importing in bulk,
reviewing. Bad input gets a 4xx JSON answer with `detail` and `code` and writes nothing."""

from datetime import UTC, datetime

import pytest

from lieux.contributions.models import Contribution, ContributionStatus, Overrun, Project, Review
from lieux.contributions.services import declare
from lieux.core.models import AuditEvent
from tests import contributions_data as data
from tests.api.conftest import ApiClient, assert_error, client_for
from tests.budget_data import fund
from tests.factories import UserFactory, add_role

LINES = (
    "01/02/2026 2h 60€ Communication, Animation : newsletter de février\n"
    "03/02/2026 1h30 Jardin : désherbage\n"
)


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    monkeypatch.setattr(declare, "now", lambda: datetime(2026, 6, 15, 10, tzinfo=UTC))


@pytest.fixture
def steward(venue):
    person = UserFactory(email="soucieux@example.org", first_name="Robin")
    add_role(person, venue)
    return person


@pytest.fixture
def garden(network, venue, steward):
    data.activities(network, "Communication", "Animation", "Jardin")
    return data.project(network, "jardin", venue=venue, stewards=[steward])


@pytest.fixture
def budget(network, venue, garden):
    made = data.budget(network, venue=venue)
    fund(made, "100")
    return made


@pytest.fixture
def as_steward(steward) -> ApiClient:
    return client_for(steward)


@pytest.fixture
def as_stranger(stranger) -> ApiClient:
    return client_for(stranger)


def written() -> tuple[int, int, int, int]:
    return (
        Project.objects.count(),
        Contribution.objects.count(),
        Review.objects.count(),
        AuditEvent.objects.count(),
    )


def declaration(garden, with_budget=None, **changes):
    body = {
        "project": garden.pk,
        "performed_on": "2026-02-01",
        "hours": "1.5",
        "activities": ["Communication"],
        "description": "Newsletter de février",
    }
    if with_budget is not None:
        body.update(budget=with_budget.pk, amount_asked="60.00")
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


# --- Projects --------------------------------------------------------------------------------------------


def test_projects_list_public_ones_for_all_and_private_ones_for_the_network(
    as_member, as_stranger, network, garden
):
    data.project(network, "coulisses", is_public=False)
    for_member = as_member.get("/projects").json()
    assert [p["slug"] for p in for_member["results"]] == ["coulisses", "jardin"]
    jardin = for_member["results"][1]
    assert jardin["venue"] == "la-coroutine" and jardin["stewards"] == [
        {"email": "soucieux@example.org", "name": "Robin Test"}
    ]
    assert set(jardin["activities"]) == {"Communication", "Animation", "Jardin"}
    for_stranger = as_stranger.get("/projects").json()
    assert [p["slug"] for p in for_stranger["results"]] == ["jardin"]
    assert for_stranger["results"][0]["stewards"] == [{"email": None, "name": "Robin Test"}]
    assert as_member.get("/projects", {"venue": "la-coroutine"}).json()["count"] == 1
    assert as_member.get("/projects", {"network_wide": "true"}).json()["count"] == 1
    assert_error(as_member.get("/projects", {"venue": "nulle-part"}), 404, "unknown_venue")


def test_a_manager_creates_a_project_and_a_member_may_not(as_manager, as_member, member):
    body = {"venue": "la-coroutine", "slug": "four", "title": "Four à pain", "stewards": [member.email]}
    before = written()
    assert_error(as_member.post("/projects", body), 403, "not_project_manager")
    assert written() == before
    response = as_manager.post("/projects", body)
    assert response.status_code == 201, response.content
    assert response.json()["stewards"][0]["email"] == member.email
    assert_error(as_manager.post("/projects", body), 409, "project_slug_taken")
    unknown = {**body, "slug": "autre", "stewards": ["personne@example.org"]}
    assert_error(as_manager.post("/projects", unknown), 404, "unknown_person")


# --- Declaring -------------------------------------------------------------------------------------------


def test_a_member_declares_and_reads_it_back(as_member, member, garden, budget):
    response = as_member.post("/contributions", declaration(garden, budget))
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["hours"], body["amount_asked"], body["activities"]) == (
        "submitted",
        "1.50",
        "60.00",
        ["Communication"],
    )
    assert body["contributor"]["email"] == member.email and body["reviews"] == []
    listed = as_member.get("/contributions", {"contributor": "me", "status": "submitted"}).json()
    assert [c["id"] for c in listed["results"]] == [body["id"]]
    assert as_member.get(f"/contributions/{body['id']}").json()["description"] == "Newsletter de février"


def test_a_steward_declares_for_someone_who_confirms_through_the_api(as_steward, as_member, member, garden):
    response = as_steward.post("/contributions", declaration(garden, contributor=member.email))
    assert response.status_code == 201, response.content
    made = response.json()
    assert made["status"] == "awaiting" and made["declared_by"]["email"] == "soucieux@example.org"
    assert_error(as_steward.post(f"/contributions/{made['id']}/confirm"), 403, "not_your_contribution")
    confirmed = as_member.post(f"/contributions/{made['id']}/confirm")
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "submitted"
    withdrawn = as_member.post(f"/contributions/{made['id']}/withdraw", {"reason": "Doublon"})
    assert withdrawn.json()["status"] == "withdrawn"


def test_contributions_are_hidden_from_people_outside_the_network(as_member, as_stranger, garden):
    made = as_member.post("/contributions", declaration(garden)).json()
    assert as_stranger.get("/contributions").json()["count"] == 0
    assert_error(as_stranger.get(f"/contributions/{made['id']}"), 404, "unknown_contribution")
    assert_error(
        as_stranger.post(f"/contributions/{made['id']}/review", {"verdict": "comment", "message": "x"}),
        404,
        "unknown_contribution",
    )


BAD_DECLARATIONS = [
    pytest.param({"performed_on": "2026-07-01"}, 422, "in_future", id="in-the-future"),
    pytest.param({"activities": ["Bricolage"]}, 422, "unknown_activity", id="unknown-activity"),
    pytest.param({"amount_asked": "10.00"}, 422, "amount_needs_budget", id="amount-without-budget"),
    pytest.param({"link": "javascript:alert(1)"}, 422, "invalid_evidence", id="bad-link"),
    pytest.param({"project": 999999}, 404, "unknown_project", id="unknown-project"),
    pytest.param({"budget": 999999}, 404, "unknown_budget", id="unknown-budget"),
    pytest.param({"contributor": "voisine@example.org"}, 403, "not_steward", id="for-someone-else"),
    pytest.param({"hours": "1.555"}, 422, "invalid_request", id="hours-with-three-decimals"),
    pytest.param({"hours": "0"}, 422, "invalid_request", id="zero-hours"),
    pytest.param({"hours": "deux"}, 422, "invalid_request", id="hours-not-a-number"),
    pytest.param({"amount_asked": "-5"}, 422, "invalid_request", id="negative-amount"),
    pytest.param({"amount_asked": "1e400"}, 422, "invalid_request", id="huge-amount"),
    pytest.param({"description": ""}, 422, "invalid_request", id="no-description"),
    pytest.param({"description": "nul\u0000"}, 422, "invalid_request", id="nul-character"),
    pytest.param({"description": "seul \ud800"}, 422, "invalid_request", id="lone-surrogate"),
    pytest.param({"kind": "bricolage"}, 422, "invalid_request", id="unknown-kind"),
    pytest.param({"performed_on": "01/02/2026"}, 422, "invalid_request", id="french-date-in-json"),
    pytest.param({"performed_on": 20260201}, 422, "invalid_request", id="number-as-date"),
    pytest.param({"spent": "2h"}, 422, "invalid_request", id="unknown-field"),
    pytest.param({"project": -1}, 422, "invalid_request", id="negative-id"),
]


@pytest.mark.parametrize(("changes", "status", "code"), BAD_DECLARATIONS)
def test_bad_declarations_get_a_json_error_and_write_nothing(
    as_member, other_member, garden, changes, status, code
):
    before = written()
    assert_error(as_member.post("/contributions", declaration(garden, **changes)), status, code)
    assert written() == before


def test_malformed_json_is_a_400(as_member, garden):
    assert_error(as_member.post("/contributions", raw="{not json"), 400, "malformed_json")
    assert_error(as_member.post("/contributions/import", raw='{"project": '), 400, "malformed_json")


# --- Import ----------------------------------------------------------------------------------------------


def test_the_dry_run_previews_each_line_and_saves_nothing(as_member, garden, budget):
    content = LINES + "pas de date\n05/02/2026 2h Bricolage : étagères\n"
    before = written()
    response = as_member.post(
        "/contributions/import",
        {"project": garden.pk, "budget": budget.pk, "content": content, "dry_run": True},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert written() == before
    assert (body["valid"], body["to_create"], body["bad_lines"]) == (False, 2, 2)
    assert [(ln["line"], ln["ok"], ln["code"]) for ln in body["lines"]] == [
        (1, True, None),
        (2, True, None),
        (3, False, "missing_date"),
        (4, False, "unknown_activity"),
    ]
    assert (
        body["lines"][0]["amount_asked"] == "60.00"
        and body["lines"][0]["contributor"] == "membre@example.org"
    )


def test_an_import_with_a_bad_line_is_a_422_listing_every_bad_line_and_saves_nothing(
    as_member, garden, budget
):
    content = "pas de date\n" + LINES + "31/02/2026 1h : jamais\n"
    before = written()
    response = as_member.post(
        "/contributions/import", {"project": garden.pk, "budget": budget.pk, "content": content}
    )
    body = assert_error(response, 422, "import_rejected")
    assert body["lines"] == [
        {"line": 1, "code": "missing_date", "detail": "The line must start with a date such as 01/02/2026."},
        {"line": 4, "code": "invalid_date", "detail": "31/02/2026 is not a date."},
    ]
    assert written() == before


def test_an_import_saves_every_line_and_a_replay_creates_nothing(as_member, garden, budget):
    body = {"project": garden.pk, "budget": budget.pk, "content": LINES}
    first = as_member.post("/contributions/import", body)
    assert first.status_code == 201, first.content
    assert (first.json()["created"], first.json()["skipped"]) == (2, 0)
    again = as_member.post("/contributions/import", body)
    assert again.status_code == 200
    assert (again.json()["created"], again.json()["skipped"]) == (0, 2)
    assert Contribution.objects.count() == 2


def test_a_steward_imports_a_csv_for_others(as_steward, member, garden, budget):
    content = (
        "date;heures;montant;activités;description;e-mail\n"
        "01/02/2026;2;60;Animation;atelier;membre@example.org\n"
    )
    response = as_steward.post(
        "/contributions/import",
        {"project": garden.pk, "budget": budget.pk, "content": content, "format": "csv"},
    )
    assert response.status_code == 201, response.content
    made = Contribution.objects.get()
    assert (made.contributor, made.status) == (member, ContributionStatus.AWAITING_CONFIRMATION)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"content": ""}, "invalid_request"),
        ({"content": "  \n# rien\n"}, "import_empty"),
        ({"content": LINES, "format": "xlsx"}, "invalid_request"),
        ({"content": "date,description\n", "format": "csv"}, "import_empty"),
        ({"content": "nul \u0000"}, "invalid_request"),
    ],
)
def test_imports_that_cannot_start_are_refused_whole(as_member, garden, body, code):
    before = written()
    assert_error(as_member.post("/contributions/import", {"project": garden.pk, **body}), 422, code)
    assert written() == before


# --- Review ----------------------------------------------------------------------------------------------


def test_a_steward_validates_and_the_contributor_may_not(as_member, as_steward, garden, budget):
    made = as_member.post("/contributions", declaration(garden, budget)).json()
    before = written()
    assert_error(
        as_member.post(f"/contributions/{made['id']}/review", {"verdict": "validate"}),
        403,
        "own_contribution",
    )
    assert written() == before
    response = as_steward.post(f"/contributions/{made['id']}/review", {"verdict": "validate"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["review"]["verdict"] == "validate"
    assert (body["contribution"]["status"], body["contribution"]["amount_granted"]) == ("validated", "60.00")
    assert body["contribution"]["validations"] == 1
    again = as_steward.post(f"/contributions/{made['id']}/review", {"verdict": "validate"})
    assert_error(again, 409, "contribution_state")


def test_a_hard_cap_refuses_a_validation_past_the_envelope_with_a_409(as_member, as_steward, garden, budget):
    budget.overrun = Overrun.REFUSE
    budget.save()
    first = as_member.post("/contributions", declaration(garden, budget, amount_asked="80.00")).json()
    second = as_member.post("/contributions", declaration(garden, budget, amount_asked="30.00")).json()
    assert as_steward.post(f"/contributions/{first['id']}/review", {"verdict": "validate"}).status_code == 201
    before = written()
    body = assert_error(
        as_steward.post(f"/contributions/{second['id']}/review", {"verdict": "validate"}),
        409,
        "envelope_exceeded",
    )
    assert (body["asked"], body["remaining"]) == ("30.00", "20.00")
    assert written() == before


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"verdict": "approve"}, 422, "invalid_request"),
        ({"verdict": "refuse"}, 422, "message_required"),
        ({"verdict": "comment", "message": "   "}, 422, "message_required"),
        ({"verdict": "comment", "message": "x" * 5001}, 422, "invalid_request"),
        ({"verdict": "validate", "extra": 1}, 422, "invalid_request"),
    ],
)
def test_bad_reviews_get_a_json_error_and_write_nothing(
    as_member, as_steward, garden, budget, body, status, code
):
    made = as_member.post("/contributions", declaration(garden, budget)).json()
    before = written()
    assert_error(as_steward.post(f"/contributions/{made['id']}/review", body), status, code)
    assert written() == before


def test_a_question_and_its_answer_show_on_the_contribution(as_member, as_steward, garden):
    made = as_member.post("/contributions", declaration(garden)).json()
    asked = as_steward.post(
        f"/contributions/{made['id']}/review", {"verdict": "question", "message": "Combien ?"}
    )
    assert asked.status_code == 201
    as_member.post(f"/contributions/{made['id']}/review", {"verdict": "comment", "message": "Douze"})
    reviews = as_member.get(f"/contributions/{made['id']}").json()["reviews"]
    assert [(r["verdict"], r["message"]) for r in reviews] == [
        ("question", "Combien ?"),
        ("comment", "Douze"),
    ]
    assert as_steward.get("/contributions", {"to_review": "true"}).json()["count"] == 1


def test_unknown_contributions_are_a_404(as_member):
    assert_error(
        as_member.post("/contributions/999999/review", {"verdict": "validate"}), 404, "unknown_contribution"
    )
    assert_error(as_member.post("/contributions/999999/confirm"), 404, "unknown_contribution")
    assert_error(as_member.get("/contributions/999999"), 404, "unknown_contribution")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/projects"),
        ("post", "/projects"),
        ("get", "/contributions"),
        ("post", "/contributions"),
        ("post", "/contributions/import"),
        ("post", "/contributions/1/review"),
    ],
)
def test_every_operation_needs_a_token(anonymous, method, path):
    response = anonymous.get(path) if method == "get" else anonymous.post(path, {})
    assert_error(response, 401, "unauthenticated")
