"""Customer notices (e-mail), in English and French, from Jinja2 templates.

A template is `templates/notices/<language>/<kind>.txt.j2`: its first line is the subject,
the rest the body. In templates, `{{ amount|money }}` and `{{ due_on|day }}` format through
Babel in the notice's language. Undefined variables raise: a notice with a hole in it must
fail in tests, not reach a customer.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, Undefined, pass_context
from jinja2.runtime import Context

from adapters.localize import format_day, format_money, language_of
from domain.money import Money


class NoticeKind(enum.StrEnum):
    PAYMENT_FAILED = "payment_failed"
    NEW_METHOD_NEEDED = "new_method_needed"
    ACTION_REQUIRED = "action_required"
    PAYMENT_RECEIVED = "payment_received"
    WIRE_INSTRUCTIONS = "wire_instructions"
    # After the money moved (domain.events.CustomerMessage): taken back, or handed back.
    PAYMENT_REVERSED = "payment_reversed"
    REFUND_ISSUED = "refund_issued"
    MANDATE_ENDED = "mandate_ended"
    # The overdue (dunning) sequence, in order.
    FIRST_NOTICE = "first_notice"
    SECOND_NOTICE = "second_notice"
    THIRD_NOTICE = "third_notice"
    LAST_NOTICE = "last_notice"
    LEGAL_NOTICE = "legal_notice"


@dataclass(frozen=True, slots=True)
class RenderedNotice:
    subject: str
    text: str


def _defined(value: object) -> None:
    # Filters receive undefined variables as objects; str() makes StrictUndefined raise
    # its UndefinedError, naming the variable, instead of Babel failing obscurely.
    if isinstance(value, Undefined):
        str(value)


@pass_context
def _money(context: Context, amount: Money) -> str:
    _defined(amount)
    return format_money(amount, language=context["language"])


@pass_context
def _day(context: Context, day: date) -> str:
    _defined(day)
    return format_day(day, language=context["language"])


def _environment() -> Environment:
    # Plain text mail: autoescaping would print "&amp;" in a customer's name.
    env = Environment(loader=PackageLoader("adapters", "templates/notices"),
                      undefined=StrictUndefined, keep_trailing_newline=True, trim_blocks=True,
                      # The templates ship with the package: no stat of the file per render.
                      auto_reload=False, autoescape=False)  # noqa: S701
    env.filters["money"] = _money
    env.filters["day"] = _day
    return env


_ENV = _environment()


def render_notice(*, kind: NoticeKind, language: str,
                  context: Mapping[str, Any]) -> RenderedNotice:
    """The subject and body of `kind` in `language` (unsupported languages read English).

    Common context: `account_name`, `invoice_number`, `amount` (Money); per kind, see the
    template (e.g. `due_on`, `termination_on`, `reference`, `bank`).
    """
    lang = language_of(language)
    template = _ENV.get_template(f"{lang}/{kind.value}.txt.j2")
    rendered = template.render({**context, "language": lang})
    subject, _, body = rendered.partition("\n")
    return RenderedNotice(subject=subject.strip(), text=body.lstrip("\n"))
