"""Log records carrying ids print them, so an invoice can be followed across processes."""

from __future__ import annotations

import json
import logging

import pytest

from workers.logs import JsonFormatter, KeyValueFilter, configure_logging


def a_record(**extra: object) -> logging.LogRecord:
    record = logging.LogRecord("paycollect.test", logging.INFO, __file__, 1, "charged %s",
                               ("42.00 EUR",), None)
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_a_record_with_ids_prints_them_as_key_value_pairs() -> None:
    # Given a record about an attempt
    record = a_record(attempt_id="att-1", invoice_id="inv-9")
    # When it passes the filter twice (two handlers)
    KeyValueFilter().filter(record)
    KeyValueFilter().filter(record)
    # Then its message carries the ids, once
    assert record.getMessage() == "charged 42.00 EUR [invoice_id=inv-9 attempt_id=att-1]"


def test_a_record_without_ids_is_left_alone() -> None:
    record = a_record()
    KeyValueFilter().filter(record)
    assert record.getMessage() == "charged 42.00 EUR"


def test_the_json_format_puts_ids_in_fields() -> None:
    doc = json.loads(JsonFormatter().format(a_record(invoice_id="inv-9")))
    assert (doc["message"], doc["invoice_id"], doc["level"]) == (
        "charged 42.00 EUR", "inv-9", "INFO")


@pytest.mark.parametrize(("setting", "level"), [
    (None, logging.INFO), ("debug", logging.DEBUG), (" WARNING ", logging.WARNING)])
def test_the_workers_log_level_comes_from_the_environment(
        monkeypatch: pytest.MonkeyPatch, setting: str | None, level: int) -> None:
    if setting is None:
        monkeypatch.delenv("PAYCOLLECT_LOG_LEVEL", raising=False)
    else:
        monkeypatch.setenv("PAYCOLLECT_LOG_LEVEL", setting)
    logger = logging.getLogger("paycollect")
    monkeypatch.setattr(logger, "level", logger.level)  # restored after the test
    configure_logging()
    assert logger.level == level


def test_an_unknown_log_level_stops_the_worker_with_a_clear_error(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAYCOLLECT_LOG_LEVEL", "verbose")
    with pytest.raises(ValueError, match="PAYCOLLECT_LOG_LEVEL='VERBOSE': use one of DEBUG"):
        configure_logging()
