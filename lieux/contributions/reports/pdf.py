"""Printing a report: an HTML template rendered in French by WeasyPrint as PDF/A-2b, a format archives and
administrations accept. Nothing is stored; the caller sends or writes the bytes."""

import logging
from typing import Any

from django.template.loader import render_to_string
from django.utils import translation

# Without HarfBuzz's subsetter WeasyPrint warns on every document before falling back on fontTools.
logging.getLogger("weasyprint").setLevel(logging.ERROR)
logging.getLogger("fontTools").setLevel(logging.ERROR)


def render_html(template: str, context: dict[str, Any]) -> str:
    # French whatever language the request or the worker runs in: the documents go to French bodies.
    with translation.override("fr"):
        return render_to_string(template, context)


def render_pdf(template: str, context: dict[str, Any]) -> bytes:
    from weasyprint import HTML  # imported on first use: it takes a while to load

    pdf = HTML(string=render_html(template, context)).write_pdf(pdf_variant="pdf/a-2b")
    assert pdf is not None  # write_pdf returns the bytes when given no target
    return bytes(pdf)
