"""Closing archives: one ZIP per closed period, readable and verifiable without the application.

Contents:

    closing.json       the period, its totals, the perpetual total, the software version, and the links
                       to the previous closing (its archive checksum, the last footprint before the period)
    invoices.json      every document issued in the period, with its sealed content (lines included), the
                       footprint that seals it and the footprint before it
    payments.json      the payments received in the period
    pdf/NUMBER.pdf     the documents as handed to the buyers, when they were rendered
    checksums.sha256   the SHA-256 of every file above, one line each (the `sha256sum` format)
    chained.sha256     SHA-256 of (this archive's checksum + the previous archive's checksum)

The archive checksum is the SHA-256 of checksums.sha256, which covers every other file: it is what the
next closing chains to and what the closing row stores. `verify_archive` needs only this module, the
footprint rule and the ZIP, so an auditor can run it on a copy far from the database.
"""

import hashlib
import io
import json
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.conf import settings

from lieux.billing import rules

CHECKSUMS = "checksums.sha256"
CHAINED = "chained.sha256"
CLOSING = "closing.json"
INVOICES = "invoices.json"
PAYMENTS = "payments.json"
FORMAT = 1


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def chained_checksum(archive_sha256: str, previous_archive_sha256: str) -> str:
    return sha256((archive_sha256 + previous_archive_sha256).encode())


def json_bytes(data: Any) -> bytes:
    """Stable JSON (sorted keys, indented for a human reader): the same data always gives the same bytes."""
    return (json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False, default=str) + "\n").encode()


def archives_dir(venue_slug: str) -> Path:
    return Path(settings.VAR_DIR) / "archives" / venue_slug


def archive_name(venue_slug: str, start: date, end: date) -> str:
    return f"{venue_slug}-{start:%Y%m%d}-{end:%Y%m%d}.zip"


@dataclass(frozen=True)
class BuiltArchive:
    content: bytes
    sha256: str  # the archive checksum: SHA-256 of checksums.sha256
    chained: str


def build_archive(
    files: Mapping[str, bytes], *, previous_archive_sha256: str, stamp: datetime
) -> BuiltArchive:
    """Zip `files` with their checksums. Entries carry `stamp` as their date and come in name order, so
    the same closing always gives the same archive checksum."""
    checksums = "".join(f"{sha256(files[name])}  {name}\n" for name in sorted(files)).encode()
    archive_sha = sha256(checksums)
    chained = chained_checksum(archive_sha, previous_archive_sha256)
    everything = {**files, CHECKSUMS: checksums, CHAINED: f"{chained}\n".encode()}
    buffer = io.BytesIO()
    when = stamp.timetuple()[:6]
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(everything):
            info = zipfile.ZipInfo(name, date_time=when)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, everything[name])
    return BuiltArchive(buffer.getvalue(), archive_sha, chained)


# Offline verification


@dataclass
class ArchiveCheck:
    path: Path
    problems: list[str] = field(default_factory=list)
    documents: int = 0
    archive_sha256: str = ""
    closing: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


def _amount(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return Decimal("NaN")


def _read(path: Path, check: ArchiveCheck) -> dict[str, bytes] | None:
    try:
        with zipfile.ZipFile(path) as archive:
            return {name: archive.read(name) for name in archive.namelist()}
    except (OSError, zipfile.BadZipFile) as error:
        check.problems.append(f"{path.name}: not a readable ZIP archive ({error})")
        return None


def _check_checksums(files: dict[str, bytes], check: ArchiveCheck) -> None:
    if CHECKSUMS not in files:
        check.problems.append(f"{CHECKSUMS}: missing")
        return
    listed: dict[str, str] = {}
    for line in files[CHECKSUMS].decode(errors="replace").splitlines():
        digest, _sep, name = line.partition("  ")
        listed[name] = digest
    for name, digest in sorted(listed.items()):
        if name not in files:
            check.problems.append(f"{name}: listed in {CHECKSUMS} but missing")
        elif sha256(files[name]) != digest:
            check.problems.append(f"{name}: checksum mismatch (the file was altered)")
    for name in sorted(set(files) - set(listed) - {CHECKSUMS, CHAINED}):
        check.problems.append(f"{name}: not listed in {CHECKSUMS} (the file was added)")
    check.archive_sha256 = sha256(files[CHECKSUMS])
    previous = str(check.closing.get("previous_archive_sha256", ""))
    stored = files.get(CHAINED, b"").decode(errors="replace").strip()
    if stored != chained_checksum(check.archive_sha256, previous):
        check.problems.append(f"{CHAINED}: does not chain this archive to the previous one")


def _check_documents(documents: list[dict[str, Any]], closing: dict[str, Any], check: ArchiveCheck) -> None:
    """Footprints, chain continuity and totals, recomputed from the sealed contents."""
    expected_previous = str(closing.get("chain_start", ""))
    sums = {"net_amount": Decimal(0), "vat_amount": Decimal(0), "gross_amount": Decimal(0)}
    start, end = str(closing.get("period_start", "")), str(closing.get("period_end", ""))
    for doc in documents:
        number = str(doc.get("number", "?"))
        content = doc.get("content") or {}
        if rules.footprint(content, str(doc.get("previous_footprint", ""))) != doc.get("footprint"):
            check.problems.append(f"{number}: footprint: the sealed content no longer matches its footprint")
        if doc.get("previous_footprint") != expected_previous:
            check.problems.append(f"{number}: previous_footprint: the chain is broken before this document")
        if content.get("number") != doc.get("number"):
            check.problems.append(f"{number}: number: differs from the sealed number")
        if not (start <= str(content.get("issued_on", "")) <= end):
            check.problems.append(f"{number}: issued_on: outside the closed period")
        expected_previous = str(doc.get("footprint", ""))
        sign = -1 if content.get("kind") == "credit_note" else 1
        for key in sums:
            sums[key] += sign * _amount(content.get(key))
    if documents and expected_previous != closing.get("last_footprint"):
        check.problems.append(f"{CLOSING}: last_footprint: not the footprint of the last document")
    if len(documents) != closing.get("document_count"):
        check.problems.append(
            f"{CLOSING}: document_count: {closing.get('document_count')} != {len(documents)}"
        )
    for key, total in sums.items():
        if _amount(closing.get(key)) != total:
            check.problems.append(f"{CLOSING}: {key}: {closing.get(key)} != {total} from the documents")
    perpetual = _amount(closing.get("previous_perpetual_gross_amount")) + sums["gross_amount"]
    if _amount(closing.get("perpetual_gross_amount")) != perpetual:
        check.problems.append(
            f"{CLOSING}: perpetual_gross_amount: {closing.get('perpetual_gross_amount')} != {perpetual}"
        )


def _check_previous(closing: dict[str, Any], previous_path: Path, check: ArchiveCheck) -> None:
    earlier = verify_archive(previous_path)
    if not earlier.ok:
        check.problems.append(f"{previous_path.name}: the previous archive does not verify")
        check.problems.extend(f"  {problem}" for problem in earlier.problems)
        return
    before = earlier.closing
    if closing.get("previous_archive_sha256") != earlier.archive_sha256:
        check.problems.append(f"{CLOSING}: previous_archive_sha256: not the checksum of {previous_path.name}")
    if closing.get("chain_start") != before.get("last_footprint"):
        check.problems.append(f"{CLOSING}: chain_start: not the last footprint of {previous_path.name}")
    if _amount(closing.get("previous_perpetual_gross_amount")) != _amount(
        before.get("perpetual_gross_amount")
    ):
        check.problems.append(
            f"{CLOSING}: previous_perpetual_gross_amount: differs from {previous_path.name}"
        )
    try:
        follows = date.fromisoformat(before["period_end"]) + timedelta(days=1) == date.fromisoformat(
            closing["period_start"]
        )
    except (KeyError, TypeError, ValueError):
        follows = False
    if not follows:
        check.problems.append(f"{CLOSING}: period_start: does not follow the period of {previous_path.name}")


def verify_archive(path: Path | str, *, previous: Path | str | None = None) -> ArchiveCheck:
    """Re-check a closing archive: every file against its checksum, the chained checksum, every document's
    footprint and the chain between them, the totals; with `previous`, the link to the archive before."""
    path = Path(path)
    check = ArchiveCheck(path)
    files = _read(path, check)
    if files is None:
        return check
    try:
        closing = json.loads(files[CLOSING])
        documents = json.loads(files[INVOICES])["documents"]
    except (KeyError, TypeError, ValueError) as error:
        check.problems.append(f"{CLOSING} or {INVOICES}: missing or unreadable ({error})")
        return check
    check.closing = closing
    check.documents = len(documents)
    _check_checksums(files, check)
    _check_documents(documents, closing, check)
    for doc in documents:
        if doc.get("pdf") and doc["pdf"] not in files:
            check.problems.append(f"{doc.get('number', '?')}: pdf: {doc['pdf']} is missing")
    if previous is not None:
        _check_previous(closing, Path(previous), check)
    return check
