"""Reading pasted lines and CSV files: examples that read as the grammar, and properties that hold for any
row or any garbage hypothesis can think of."""

import string
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lieux.contributions.errors import PROBLEM_MESSAGES, problem_message
from lieux.contributions.models import ContributionKind
from lieux.contributions.rules import imports as rules
from lieux.contributions.rules.declarations import MAX_DESCRIPTION

D = Decimal
FEB_1 = date(2026, 2, 1)


def one(text: str) -> rules.Line:
    [line] = rules.parse_lines(text)
    return line


def row(text: str) -> rules.Row:
    line = one(text)
    assert line.row is not None, line.problem
    return line.row


def problem(text: str) -> str:
    line = one(text)
    assert line.problem is not None, line.row
    return line.problem.code


def test_the_example_of_the_issue_reads_as_meant():
    assert row("01/02/2026 2h 60€ Communication, Animation : newsletter de février") == rules.Row(
        performed_on=FEB_1,
        hours=D("2.00"),
        amount=D("60.00"),
        activities=("Communication", "Animation"),
        description="newsletter de février",
    )


@pytest.mark.parametrize(
    ("text", "hours"),
    [
        ("2h", "2"),
        ("2 h", "2"),
        ("2H", "2"),
        ("1h30", "1.5"),
        ("1h05", "1.08"),
        ("1h20", "1.33"),
        ("1,5h", "1.5"),
        ("1.5 h", "1.5"),
        ("2 heures", "2"),
        ("1 heure", "1"),
        ("45min", "0.75"),
        ("90 min", "1.5"),
        ("0,25h", "0.25"),
    ],
)
def test_hours_are_read_in_every_usual_form(text, hours):
    assert row(f"01/02/2026 {text} Jardin : désherbage").hours == D(hours)


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("60€", "60"),
        ("60 €", "60"),
        ("60,50€", "60.5"),
        ("60.50 €", "60.5"),
        ("1 200€", "1200"),
        ("1\u202f200,50\u00a0€", "1200.5"),
        ("1.200,50€", "1200.5"),
        ("60 EUR", "60"),
        ("60 euros", "60"),
        ("€60", "60"),
    ],
)
def test_amounts_are_read_in_every_usual_form(text, amount):
    assert row(f"01/02/2026 {text} Jardin : désherbage").amount == D(amount)


@pytest.mark.parametrize(
    "text", ["01/02/2026", "1/2/2026", "1/2/26", "01-02-2026", "01.02.2026", "2026-02-01"]
)
def test_dates_are_read_in_every_usual_form(text):
    assert row(f"{text} : permanence").performed_on == FEB_1


def test_hours_and_amount_are_optional_and_come_in_either_order():
    assert row("01/02/2026 Accueil : permanence") == rules.Row(FEB_1, "permanence", activities=("Accueil",))
    assert row("01/02/2026 60€ 2h Accueil : permanence").hours == D(2)
    assert row("01/02/2026 60€ 2h Accueil : permanence").amount == D(60)


def test_without_a_colon_everything_after_the_figures_is_the_description():
    assert row("01/02/2026 2h rangé l'atelier") == rules.Row(FEB_1, "rangé l'atelier", hours=D(2))


def test_a_colon_inside_a_link_is_not_the_end_of_the_activities():
    assert row("01/02/2026 compte rendu https://pad.example.org/x:y") == rules.Row(
        FEB_1, "compte rendu https://pad.example.org/x:y"
    )
    assert row("01/02/2026 Com : voir https://x.example.org").activities == ("Com",)


def test_a_leading_colon_names_no_activity_and_later_colons_belong_to_the_description():
    assert row("01/02/2026 2h : Ordre du jour : budget") == rules.Row(
        FEB_1, "Ordre du jour : budget", hours=D(2)
    )


def test_activities_are_trimmed_and_counted_once():
    assert row("01/02/2026 Com ,  com,Animation  ,: x").activities == ("Com", "Animation")


def test_blank_lines_and_comments_are_skipped_and_numbers_count_every_line():
    lines = rules.parse_lines("# mes contributions\n\n01/02/2026 : a\r\n\n02/02/2026 : b\rpas de date\n")
    assert [(ln.number, ln.ok) for ln in lines] == [(3, True), (5, True), (6, False)]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("permanence du samedi", "missing_date"),
        ("31/02/2026 : x", "invalid_date"),
        ("01/13/2026 : x", "invalid_date"),
        ("01/02/2026 2,123h : x", "invalid_hours"),
        ("01/02/2026 1,5h30 : x", "invalid_hours"),
        ("01/02/2026 1h75 : x", "invalid_hours"),
        ("01/02/2026 60,505€ : x", "invalid_amount"),
        ("01/02/2026 1,200€ : x", "invalid_amount"),
        ("01/02/2026 2h 3h : x", "repeated_hours"),
        ("01/02/2026 2€ 3€ : x", "repeated_amount"),
        ("01/02/2026 2h Com :", "missing_description"),
        ("01/02/2026 2h", "missing_description"),
        ("01/02/2026 : nul \x00 ici", "invalid_characters"),
        ("01/02/2026 " + "x" * 90 + " : trop long", "activity_too_long"),
        ("01/02/2026 : " + "x" * (MAX_DESCRIPTION + 1), "description_too_long"),
    ],
)
def test_bad_lines_say_what_is_wrong(text, code):
    assert problem(text) == code


def test_every_problem_the_parser_reports_has_a_message():
    codes = {
        "missing_date",
        "invalid_date",
        "invalid_hours",
        "invalid_amount",
        "repeated_hours",
        "repeated_amount",
        "missing_description",
        "description_too_long",
        "invalid_characters",
        "activity_too_long",
        "invalid_kind",
        "invalid_link",
        "invalid_email",
        "missing_column",
        "unknown_column",
        "repeated_column",
        "too_many_cells",
        "unreadable_csv",
    }
    assert codes <= set(PROBLEM_MESSAGES)
    assert problem_message("invalid_hours", {"value": "2,123h"}) == (
        "2,123h is not a number of hours (e.g. 2h, 1h30, 1,5h)."
    )


def test_the_kinds_the_parser_knows_are_the_models():
    assert set(rules.KINDS) == set(ContributionKind.values)
    assert set(rules.KIND_ALIASES.values()) == set(ContributionKind.values)


# CSV ------------------------------------------------------------------------------------------------------


def test_a_csv_file_with_french_headers_semicolons_and_a_multi_line_description():
    text = (
        "\ufeffDate;Heures;Montant (€);Activités;Description;E-mail;Type;Lien\n"
        "01/02/2026;1,5;60,50;Communication, Animation;newsletter;Lou@Example.org;compétence;https://x.org/n\n"
        '02/02/2026;;;;"deux\nlignes";;;\n'
        "\n"
        "03/02/2026;beaucoup;;;x;;;\n"
    )
    lines = rules.parse_csv(text)
    assert [(ln.number, ln.ok) for ln in lines] == [(2, True), (3, True), (6, False)]
    assert lines[0].row == rules.Row(
        performed_on=FEB_1,
        hours=D("1.5"),
        amount=D("60.5"),
        activities=("Communication", "Animation"),
        description="newsletter",
        contributor_email="lou@example.org",
        kind="skill",
        link="https://x.org/n",
    )
    assert lines[1].row is not None and lines[1].row.description == "deux\nlignes"
    assert lines[2].problem is not None and lines[2].problem.code == "invalid_hours"


def test_a_csv_header_without_date_or_with_an_unknown_column_is_one_problem_on_line_one():
    [missing] = rules.parse_csv("hours,description\n2,x\n")
    assert (missing.number, missing.problem and missing.problem.code) == (1, "missing_column")
    [unknown] = rules.parse_csv("date,description,montnat\n01/02/2026,x,3\n")
    assert unknown.problem is not None and unknown.problem.params == {"column": "montnat"}


def test_csv_rows_longer_than_the_header_are_refused():
    [line] = rules.parse_csv("date,description\n01/02/2026,x,surplus\n")
    assert line.problem is not None and line.problem.code == "too_many_cells"


@pytest.mark.parametrize(
    ("cells", "code"),
    [
        ("01/02/2026,x,,inconnu,", "invalid_kind"),
        ("01/02/2026,x,,,ftp://x.org", "invalid_link"),
        ("01/02/2026,x,pas-une-adresse,,", "invalid_email"),
        (",x,,,", "missing_date"),
    ],
)
def test_bad_csv_cells_say_what_is_wrong(cells, code):
    [line] = rules.parse_csv(f"date,description,contributor,kind,link\n{cells}\n")
    assert line.problem is not None and line.problem.code == code


def test_an_uploaded_file_in_windows_1252_is_read():
    assert rules.decode_upload("date;description\n01/02/2026;goûter\n".encode("cp1252")).endswith("goûter\n")
    assert rules.decode_upload("\ufeffdate".encode()) == "date"


# Properties -------------------------------------------------------------------------------------------------

name_chars = st.sampled_from(string.ascii_letters + string.digits + " éèàçœ'-()&+/")
activity_names = st.builds(
    lambda first, rest: " ".join((first + rest).split()),
    st.sampled_from(string.ascii_letters + "ÉéÀà"),
    st.text(name_chars, max_size=30),
).filter(lambda n: len(n) <= 80)
# Anything printable on one line: letters of every script, punctuation, colons, euros, digits.
descriptions = (
    st.text(
        st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters="\x85"),
        min_size=1,
        max_size=200,
    )
    .map(str.strip)
    .filter(bool)
)
hours = st.decimals(min_value=D("0.01"), max_value=D("9999.99"), places=2)
amounts = st.decimals(min_value=D("0"), max_value=D("9999999999.99"), places=2)
days = st.dates(min_value=date(1990, 1, 1), max_value=date(2999, 12, 31))


@st.composite
def rows(draw, *, csv: bool = False) -> rules.Row:
    names = draw(st.lists(activity_names, max_size=4, unique_by=str.casefold))
    return rules.Row(
        performed_on=draw(days),
        description=draw(descriptions.filter(lambda d: "\r" not in d) if csv else descriptions),
        hours=draw(st.none() | hours),
        amount=draw(st.none() | amounts),
        activities=tuple(names),
        contributor_email=draw(st.sampled_from(["", "lou@example.org", "a.b+c@lieux.example"]))
        if csv
        else "",
        kind=draw(st.sampled_from(("", *rules.KINDS))) if csv else "",
        link=draw(st.sampled_from(["", "https://pad.example.org/p/1", "http://x.org/a?b=c"])) if csv else "",
    )


@given(rows())
@settings(max_examples=300)
def test_a_formatted_row_reads_back_as_itself(original):
    text = rules.format_line(original)
    [line] = rules.parse_lines(text)
    assert line.row == original, (text, line.problem)


@given(st.lists(rows(csv=True), min_size=1, max_size=8), st.sampled_from([",", ";", "\t"]))
@settings(max_examples=150)
def test_a_csv_file_of_rows_reads_back_as_those_rows(originals, delimiter):
    text = rules.format_csv(originals, delimiter=delimiter)
    lines = rules.parse_csv(text)
    assert [ln.row for ln in lines] == originals, [ln.problem for ln in lines]


def _well_formed(lines: list[rules.Line], text_lines: int) -> None:
    numbers = [ln.number for ln in lines]
    assert numbers == sorted(set(numbers))
    for ln in lines:
        assert 1 <= ln.number <= max(text_lines, 1)
        assert (ln.row is None) != (ln.problem is None)
        if ln.problem is not None:
            assert ln.problem.code in PROBLEM_MESSAGES
            assert problem_message(ln.problem.code, ln.problem.params)


@given(st.text(max_size=400))
@settings(max_examples=400)
def test_garbage_lines_give_line_problems_never_an_exception(text):
    _well_formed(rules.parse_lines(text), len(rules.split_lines(text)))


line_ish = st.lists(
    st.one_of(
        st.text(max_size=40),
        st.sampled_from(["01/02/2026", "2h", "1h3", "60€", "€", ":", " : ", ",", "1,5", "1 200", "h", "min"]),
    ),
    max_size=12,
).map(" ".join)


@given(line_ish)
@settings(max_examples=400)
def test_near_misses_give_line_problems_never_an_exception(text):
    _well_formed(rules.parse_lines(text), len(rules.split_lines(text)))


@given(
    st.text(max_size=400)
    | st.lists(line_ish, max_size=5).map(lambda ls: "date;description;hours\n" + "\n".join(ls))
)
@settings(max_examples=400)
def test_garbage_csv_gives_line_problems_never_an_exception(text):
    _well_formed(rules.parse_csv(text), len(rules.split_lines(text)))


@given(rows())
def test_a_parsed_row_always_satisfies_the_invariants_the_services_rely_on(original):
    parsed = rules.parse_lines(rules.format_line(original))[0].row
    assert parsed is not None
    assert parsed.description == parsed.description.strip() and parsed.description
    assert parsed.hours is None or parsed.hours == parsed.hours.quantize(D("0.01"))
    assert parsed.amount is None or parsed.amount == parsed.amount.quantize(D("0.01"))
