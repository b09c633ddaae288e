"""The customers' hosted invoice page (GET /i/{token}) and its pay button (POST /i/{token}/pay),
served by the web app beside the webhooks and /v1."""

from workers.invoice_page.links import invoice_links, with_invoice_links
from workers.invoice_page.routes import invoice_page_routes

__all__ = ["invoice_links", "invoice_page_routes", "with_invoice_links"]
