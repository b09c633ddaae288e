"""Invoice documents: the customer article's sections, as terminal text or an HTML page."""

from adapters.documents.html import render_html
from adapters.documents.payment_details import PaymentDetails
from adapters.documents.text import render_text

__all__ = ["PaymentDetails", "render_html", "render_text"]
