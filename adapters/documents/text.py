"""The invoice as plain text for a terminal: headings underlined, amounts right-aligned."""

from __future__ import annotations

from adapters.documents.payment_details import PaymentDetails
from adapters.documents.view import InvoiceView, Row, SectionView, build_view
from domain.invoices import Invoice


def render_text(invoice: Invoice, *, account_name: str, language: str,
                payment_details: PaymentDetails) -> str:
    view = build_view(invoice, account_name=account_name, language=language,
                      payment_details=payment_details)
    return _render(view)


def _render(view: InvoiceView) -> str:
    rows = [row for section in view.sections for row in section.rows]
    header = Row(*view.columns)
    widths = [max(len(getattr(row, f)) for row in [header, *rows])
              for f in ("description", "quantity", "unit_price", "amount")]
    label_width = max(len(label) for label, _ in view.header)
    lines = [view.title, "=" * len(view.title)]
    lines += [f"{label:<{label_width}} {value}" for label, value in view.header]
    for section in view.sections:
        lines += ["", section.heading, "-" * len(section.heading)]
        lines += _section_body(section, header=header, widths=widths)
    return "\n".join(lines) + "\n"


def _section_body(section: SectionView, *, header: Row, widths: list[int]) -> list[str]:
    body = list(section.notes)
    # Only line sections carry a quantity; show the column titles above them.
    if any(row.quantity for row in section.rows):
        body.append(_format_row(header, widths))
    body += [_format_row(row, widths) for row in section.rows]
    if section.facts:
        label_width = max(len(label) for label, _ in section.facts)
        body += [f"  {label:<{label_width}} {value}" for label, value in section.facts]
    return body


def _format_row(row: Row, widths: list[int]) -> str:
    description, quantity, unit_price, amount = widths
    return (f"{row.description:<{description}}  {row.quantity:>{quantity}}  "
            f"{row.unit_price:>{unit_price}}  {row.amount:>{amount}}").rstrip()
