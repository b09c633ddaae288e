"""The invoice as an HTML page (Jinja2, autoescaped: account names are customer input)."""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, StrictUndefined

from adapters.documents.payment_details import PaymentDetails
from adapters.documents.view import build_view
from domain.invoices import Invoice

_ENV = Environment(loader=PackageLoader("adapters.documents", "templates"),
                   autoescape=True, undefined=StrictUndefined, trim_blocks=True,
                   lstrip_blocks=True, auto_reload=False)  # templates ship with the package


def render_html(invoice: Invoice, *, account_name: str, language: str,
                payment_details: PaymentDetails) -> str:
    view = build_view(invoice, account_name=account_name, language=language,
                      payment_details=payment_details)
    return _ENV.get_template("invoice.html.j2").render(view=view)
