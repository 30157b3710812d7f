"""Reading contributions in bulk: pasted lines and CSV files. Pure: text in, rows or line problems out.
Nothing here ever raises on bad input; every line is either a `Row` or a `Problem` with its line number.

**Pasted lines**, one contribution each:

    01/02/2026 2h 60€ Communication, Animation : newsletter de février

- the day first: `01/02/2026`, `1/2/26`, `01-02-2026`, `01.02.2026` or `2026-02-01`;
- then, in either order and both optional, the hours (`2h`, `2 h`, `1h30`, `1,5h`, `1.5 h`, `2 heures`,
  `45min`) and the amount asked (`60€`, `60 €`, `60,50€`, `1 200,50 €`, `60 EUR`, `€60`);
- then the activities, separated by commas, and a colon (followed by a space) before the description.
  Without such a colon the whole rest is the description; a rest that starts with the colon names no
  activity. A colon inside a link (`https://…`) is not a separator.

Blank lines and lines starting with `#` are skipped. Line numbers count every line of the text from 1.

**CSV** with a header row naming its columns, in English or French, in any order: `date` and
`description` (required), `hours`, `amount`, `activities` (separated by commas or semicolons inside the
cell), and optionally `contributor` (an e-mail, when a steward imports for others), `kind` and `link`.
Cells take the same forms as pasted lines, plus bare numbers for hours and amounts. The separator (comma,
semicolon or tab) is the one the header row uses. Line numbers are those of the file, the header being 1.

Amounts are never rounded: more than two decimals is an error. Minutes are turned into hours rounded to the
hundredth (1h20 → 1.33).
"""

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from lieux.contributions.rules.declarations import MAX_ACTIVITY, MAX_DESCRIPTION, Problem

CENT = Decimal("0.01")
FIRST_YEAR, LAST_YEAR = 1900, 2999
MAX_LINE = 20_000  # characters; a longer line is not a contribution

KINDS = ("time", "skill", "knowledge", "lending", "mutual_aid")
KIND_ALIASES = {
    "time": "time",
    "time given": "time",
    "temps": "time",
    "temps donne": "time",
    "benevolat": "time",
    "skill": "skill",
    "skills": "skill",
    "competence": "skill",
    "competences": "skill",
    "knowledge": "knowledge",
    "knowledge shared": "knowledge",
    "savoir": "knowledge",
    "savoirs": "knowledge",
    "connaissance": "knowledge",
    "connaissances": "knowledge",
    "savoir partage": "knowledge",
    "lending": "lending",
    "tool or material lent": "lending",
    "pret": "lending",
    "pret de materiel": "lending",
    "mutual aid": "mutual_aid",
    "mutual_aid": "mutual_aid",
    "entraide": "mutual_aid",
}


@dataclass(frozen=True)
class Row:
    """One contribution as read. `kind` empty: the import's default; `contributor_email` empty: the person
    importing."""

    performed_on: date
    description: str
    hours: Decimal | None = None
    amount: Decimal | None = None
    activities: tuple[str, ...] = ()
    contributor_email: str = ""
    kind: str = ""
    link: str = ""


@dataclass(frozen=True)
class Line:
    number: int
    row: Row | None = None
    problem: Problem | None = None
    text: str = ""  # the line as given, for previews

    @property
    def ok(self) -> bool:
        return self.row is not None


class _Bad(Exception):
    """A problem found while reading one line; caught before it leaves this module."""

    def __init__(self, code: str, field: str = "", **params: object) -> None:
        super().__init__(code)
        self.problem = Problem(code, field, dict(params))


# Values ----------------------------------------------------------------------------------------------------

# ASCII: other scripts' digits are not what people type in these files, and Decimal would take them.
_DMY = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})", re.ASCII)
_YMD = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})", re.ASCII)
_SPACES = "\u00a0\u202f\u2009 "


def parse_date(text: str) -> date:
    text = text.strip()
    if m := _YMD.fullmatch(text):
        year, month, day = (int(g) for g in m.groups())
    elif m := _DMY.fullmatch(text):
        day, month, year = (int(g) for g in m.groups())
        if len(m.group(3)) == 2:
            year += 2000
    else:
        raise _Bad("invalid_date", "performed_on", value=text[:40])
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise _Bad("invalid_date", "performed_on", value=text[:40])
    try:
        return date(year, month, day)
    except ValueError:
        raise _Bad("invalid_date", "performed_on", value=text[:40]) from None


def _number(text: str, *, decimals: int) -> Decimal:
    """A decimal written the French or the English way: `1 200,50`, `1200.5`, `1.200,50`. The last of `,`
    and `.` is the decimal separator when followed by at most `decimals` digits; spaces group thousands."""
    digits = text.strip()
    for space in _SPACES:
        digits = digits.replace(space, "")
    if not re.fullmatch(r"\d[\d.,]*", digits, re.ASCII):
        raise ValueError(text)
    last = max(digits.rfind(","), digits.rfind("."))
    if last == -1:
        whole, fraction = digits, ""
    else:
        whole, fraction = digits[:last], digits[last + 1 :]
        if decimals == 0 or not re.fullmatch(rf"\d{{1,{decimals}}}", fraction, re.ASCII):
            raise ValueError(text)
        # Only thousands may be grouped by the other separator, in groups of three.
        groups = re.split(r"[.,]", whole)
        if len(groups) > 1 and (any(len(g) != 3 for g in groups[1:]) or not 1 <= len(groups[0]) <= 3):
            raise ValueError(text)
        whole = "".join(groups)
    if not re.fullmatch(r"\d{1,12}", whole, re.ASCII):
        raise ValueError(text)
    return Decimal(f"{whole}.{fraction or '0'}")


# Spaces as typed or pasted from a word processor: no-break and thin ones too.
_SP = r"[\s\u00a0\u202f\u2009]"
_HOURS_LOOSE = re.compile(
    rf"(?P<all>(?P<h>\d[\d.,]*){_SP}*(?:heures?|hours?|hrs?|h)(?P<m>\d+)?(?:{_SP}*(?:min|mn))?"
    rf"|(?P<min>\d[\d.,]*){_SP}*(?:minutes?|min|mn))(?={_SP}|[,;]|$)",
    re.IGNORECASE | re.ASCII,
)


def _hours_value(match: re.Match[str]) -> Decimal:
    text = match.group("all")
    try:
        if match.group("min") is not None:
            minutes = _number(match.group("min"), decimals=0)
            return (minutes / 60).quantize(CENT, rounding=ROUND_HALF_UP)
        hours = _number(match.group("h"), decimals=2)
        if match.group("m") is not None:
            if hours != hours.to_integral_value() or "," in match.group("h") or "." in match.group("h"):
                raise ValueError(text)
            extra = int(match.group("m"))
            if len(match.group("m")) != 2 or extra >= 60:
                raise ValueError(text)
            hours += (Decimal(extra) / 60).quantize(CENT, rounding=ROUND_HALF_UP)
        return hours.quantize(CENT)
    except (ValueError, InvalidOperation):
        raise _Bad("invalid_hours", "hours", value=text[:40]) from None


def parse_hours(text: str) -> Decimal:
    """A cell or token of hours: `2`, `1,5`, `2h`, `1h30`, `45min`."""
    text = text.strip()
    if (m := _HOURS_LOOSE.fullmatch(text)) is not None:
        return _hours_value(m)
    try:
        return _number(text, decimals=2).quantize(CENT)
    except (ValueError, InvalidOperation):
        raise _Bad("invalid_hours", "hours", value=text[:40]) from None


_AMOUNT_LOOSE = re.compile(
    rf"(?P<all>(?P<n>\d{{1,3}}(?:[\u00a0\u202f\u2009 ]\d{{3}})+(?:[.,]\d+)?|\d[\d.,]*){_SP}*(?:€|euros?|eur)"
    rf"|€{_SP}*(?P<n2>\d[\d.,]*))(?={_SP}|[,;]|$)",
    re.IGNORECASE | re.ASCII,
)


def _amount_value(match: re.Match[str]) -> Decimal:
    number = match.group("n") if match.group("n") is not None else match.group("n2")
    try:
        return _number(number, decimals=2).quantize(CENT)
    except (ValueError, InvalidOperation):
        raise _Bad("invalid_amount", "amount_asked", value=match.group("all")[:40]) from None


def parse_amount(text: str) -> Decimal:
    """A cell or token of euros: `60`, `60,50`, `60 €`, `1 200,50€`."""
    text = text.strip()
    if (m := _AMOUNT_LOOSE.fullmatch(text)) is not None:
        return _amount_value(m)
    try:
        return _number(text, decimals=2).quantize(CENT)
    except (ValueError, InvalidOperation):
        raise _Bad("invalid_amount", "amount_asked", value=text[:40]) from None


def _fold(text: str) -> str:
    """Lower case, no accents, single spaces: how header names and kinds are compared."""
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.replace("_", " ").replace("-", " ").split())


def parse_kind(text: str) -> str:
    folded = _fold(text)
    if not folded:
        return ""
    kind = KIND_ALIASES.get(folded) or KIND_ALIASES.get(folded.replace(" ", "_"))
    if kind is None:
        raise _Bad("invalid_kind", "kind", value=text.strip()[:40])
    return kind


_EMAIL = re.compile(r"[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+")


def parse_email(text: str) -> str:
    text = text.strip()
    if not text:
        return ""
    if not _EMAIL.fullmatch(text) or len(text) > 254:
        raise _Bad("invalid_email", "contributor", value=text[:60])
    return text.lower()


def parse_link(text: str) -> str:
    text = text.strip()
    if not text:
        return ""
    if not re.fullmatch(r"https?://\S+", text, re.IGNORECASE) or len(text) > 200:
        raise _Bad("invalid_link", "evidence_url", value=text[:60])
    return text


def parse_activities(text: str) -> tuple[str, ...]:
    names = tuple(" ".join(name.split()) for name in re.split(r"[,;|]", text))
    names = tuple(name for name in names if name)
    for name in names:
        if len(name) > MAX_ACTIVITY:
            raise _Bad("activity_too_long", "activities", value=name[:40] + "…")
    return _unique(names)


def _unique(names: Iterable[str]) -> tuple[str, ...]:
    seen: set[str] = set()
    kept = []
    for name in names:
        if name.casefold() not in seen:
            seen.add(name.casefold())
            kept.append(name)
    return tuple(kept)


def _description(text: str) -> str:
    description = text.strip()
    if not description:
        raise _Bad("missing_description", "description")
    if len(description) > MAX_DESCRIPTION:
        raise _Bad("description_too_long", "description", limit=MAX_DESCRIPTION)
    return description


def _check_characters(text: str) -> None:
    # Control characters (NUL above all, which PostgreSQL cannot store) are never part of a contribution.
    if any(unicodedata.category(c) == "Cc" and c != "\t" for c in text):
        raise _Bad("invalid_characters", "description")
    if any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        raise _Bad("invalid_characters", "description")


# Pasted lines ----------------------------------------------------------------------------------------------

_LINE_DATE = re.compile(
    rf"(\d{{4}}-\d{{1,2}}-\d{{1,2}}|\d{{1,2}}[/.-]\d{{1,2}}[/.-](?:\d{{4}}|\d{{2}}))(?={_SP}|$)", re.ASCII
)
_ACTIVITIES_END = re.compile(rf":(?={_SP}|$)")


def parse_line(text: str) -> Row:
    """One pasted line; raises _Bad (kept inside this module) when it cannot be read."""
    _check_characters(text)
    if len(text) > MAX_LINE:
        raise _Bad("description_too_long", "description", limit=MAX_DESCRIPTION)
    rest = text.strip()
    m = _LINE_DATE.match(rest)
    if m is None:
        raise _Bad("missing_date", "performed_on")
    performed_on = parse_date(m.group(1))
    rest = rest[m.end() :].lstrip()
    hours: Decimal | None = None
    amount: Decimal | None = None
    while rest:
        if (h := _HOURS_LOOSE.match(rest)) is not None:
            if hours is not None:
                raise _Bad("repeated_hours", "hours")
            hours = _hours_value(h)
            rest = rest[h.end() :].lstrip()
        elif (a := _AMOUNT_LOOSE.match(rest)) is not None:
            if amount is not None:
                raise _Bad("repeated_amount", "amount_asked")
            amount = _amount_value(a)
            rest = rest[a.end() :].lstrip()
        else:
            break
    activities: tuple[str, ...] = ()
    if (colon := _ACTIVITIES_END.search(rest)) is not None:
        activities = parse_activities(rest[: colon.start()])
        rest = rest[colon.end() :]
    return Row(
        performed_on=performed_on,
        description=_description(rest),
        hours=hours,
        amount=amount,
        activities=activities,
    )


def split_lines(text: str) -> list[str]:
    """Physical lines, whatever the line endings (and only those: a form feed stays inside its line)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def parse_lines(text: str) -> list[Line]:
    lines = []
    for number, raw in enumerate(split_lines(text.lstrip("\ufeff")), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        try:
            lines.append(Line(number, row=parse_line(raw), text=raw[:500]))
        except _Bad as bad:
            lines.append(Line(number, problem=bad.problem, text=raw[:500]))
    return lines


def format_hours(hours: Decimal) -> str:
    return format(hours.normalize(), "f").replace(".", ",")


def format_amount(amount: Decimal) -> str:
    return f"{amount:.2f}".replace(".", ",")


def format_line(row: Row) -> str:
    """The canonical pasted form of a row (the colon is always written, so any description reads back)."""
    parts = [f"{row.performed_on:%d/%m/%Y}"]
    if row.hours is not None:
        parts.append(f"{format_hours(row.hours)}h")
    if row.amount is not None:
        parts.append(f"{format_amount(row.amount)}€")
    if row.activities:
        parts.append(", ".join(row.activities))
    parts.append(f": {row.description}")
    return " ".join(parts)


# CSV -------------------------------------------------------------------------------------------------------

COLUMNS = ("date", "hours", "amount", "activities", "description", "contributor", "kind", "link")
REQUIRED = ("date", "description")
COLUMN_ALIASES = {
    "date": "date",
    "day": "date",
    "done on": "date",
    "performed on": "date",
    "jour": "date",
    "fait le": "date",
    "hours": "hours",
    "hour": "hours",
    "heures": "hours",
    "heure": "hours",
    "duree": "hours",
    "duration": "hours",
    "amount": "amount",
    "amount asked": "amount",
    "montant": "amount",
    "montant demande": "amount",
    "activities": "activities",
    "activity": "activities",
    "activites": "activities",
    "activite": "activities",
    "description": "description",
    "contributor": "contributor",
    "contributor email": "contributor",
    "email": "contributor",
    "e mail": "contributor",
    "courriel": "contributor",
    "contributeur": "contributor",
    "contributrice": "contributor",
    "contributeur rice": "contributor",
    "kind": "kind",
    "type": "kind",
    "nature": "kind",
    "link": "link",
    "lien": "link",
    "url": "link",
    "evidence": "link",
    "preuve": "link",
}


def _delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _header(cells: Sequence[str]) -> list[str]:
    names: list[str] = []
    for cell in cells:
        folded = _fold(cell.replace("(€)", "").replace("€", ""))
        column = COLUMN_ALIASES.get(folded)
        if column is None:
            raise _Bad("unknown_column", column=cell.strip()[:40])
        if column in names:
            raise _Bad("repeated_column", column=cell.strip()[:40])
        names.append(column)
    for needed in REQUIRED:
        if needed not in names:
            raise _Bad("missing_column", column=needed)
    return names


def _csv_row(names: Sequence[str], cells: Sequence[str]) -> Row:
    if len(cells) > len(names) and any(c.strip() for c in cells[len(names) :]):
        raise _Bad("too_many_cells")
    for text in cells:
        _check_characters(text.replace("\n", " "))
    value = dict(zip(names, cells, strict=False))

    def cell(column: str) -> str:
        return value.get(column, "").strip()

    if not cell("date"):
        raise _Bad("missing_date", "performed_on")
    return Row(
        performed_on=parse_date(cell("date")),
        hours=parse_hours(cell("hours")) if cell("hours") else None,
        amount=parse_amount(cell("amount")) if cell("amount") else None,
        activities=parse_activities(cell("activities")),
        description=_description(cell("description")),
        contributor_email=parse_email(cell("contributor")),
        kind=parse_kind(cell("kind")),
        link=parse_link(cell("link")),
    )


def parse_csv(text: str) -> list[Line]:
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    first = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first))
    lines: list[Line] = []
    names: list[str] | None = None
    start = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            lines.append(Line(start, problem=Problem("unreadable_csv", "", {"reason": str(error)[:100]})))
            break
        here, start = start, reader.line_num + 1
        if not any(c.strip() for c in cells):
            continue
        shown = ";".join(cells)[:500]
        if names is None:
            try:
                names = _header(cells)
            except _Bad as bad:
                return [Line(here, problem=bad.problem, text=shown)]
            continue
        try:
            lines.append(Line(here, row=_csv_row(names, cells), text=shown))
        except _Bad as bad:
            lines.append(Line(here, problem=bad.problem, text=shown))
    if names is None:
        return [Line(1, problem=Problem("missing_column", "", {"column": "date"}))] if text.strip() else []
    return lines


def format_csv(rows: Sequence[Row], *, delimiter: str = ",") -> str:
    """Rows as a CSV file with every column, in the parser's own forms."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(
            [
                f"{row.performed_on:%d/%m/%Y}",
                "" if row.hours is None else format_hours(row.hours),
                "" if row.amount is None else format_amount(row.amount),
                ", ".join(row.activities),
                row.description,
                row.contributor_email,
                row.kind,
                row.link,
            ]
        )
    return out.getvalue()


def decode_upload(data: bytes) -> str:
    """An uploaded file's text: UTF-8 (with or without its byte-order mark), else Windows-1252, the
    encoding spreadsheets on French Windows save CSV in."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")
