"""Rendering and e-mailing an issued invoice, after its transaction commits."""


def deliver(invoice_id: int) -> None:
    """Render the PDF/A-3 + Factur-X document and e-mail it to the buyer."""
