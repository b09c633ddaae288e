"""Structured logs: every record that carries ids (`extra={"invoice_id": …}`) prints them as
key=value pairs, so one invoice or attempt can be followed across processes with grep.
`PAYCOLLECT_LOG_FORMAT=json` prints one JSON object per line instead (for log shippers)."""

from __future__ import annotations

import json
import logging
import os

#: The ids and facts handlers attach to their log records.
FIELDS = ("invoice_id", "attempt_id", "account_id", "subscription_id", "event_id", "method",
          "status", "amount_minor")


def _fields(record: logging.LogRecord) -> dict[str, object]:
    return {name: getattr(record, name) for name in FIELDS if hasattr(record, name)}


class KeyValueFilter(logging.Filter):
    """Appends the record's ids to its message (once, whatever the handler's format)."""

    def filter(self, record: logging.LogRecord) -> bool:
        fields = _fields(record)
        if fields and not getattr(record, "_paycollect_fields", False):
            pairs = " ".join(f"{key}={value}" for key, value in fields.items())
            record.msg = f"{record.getMessage()} [{pairs}]"
            record.args = ()
            record._paycollect_fields = True
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, object] = {"at": self.formatTime(record), "level": record.levelname,
                                  "logger": record.name, "message": record.getMessage(),
                                  "pid": record.process, **_fields(record)}
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        return json.dumps(doc, default=str)


#: Libraries that log every HTTP request at INFO: one line per provider call is noise, and
#: at thousands of calls a second it costs real time.
CHATTY = ("stripe", "httpx", "urllib3", "gocardless_pro")


#: The names PAYCOLLECT_LOG_LEVEL takes.
LEVELS = {"DEBUG": logging.DEBUG, "INFO": logging.INFO, "WARNING": logging.WARNING,
          "ERROR": logging.ERROR}


def level_from_env() -> int:
    """PAYCOLLECT_LOG_LEVEL (default INFO); anything else stops the worker with a clear
    error rather than logging at a level nobody asked for."""
    name = os.environ.get("PAYCOLLECT_LOG_LEVEL", "INFO").strip().upper()
    if name not in LEVELS:
        raise ValueError(f"PAYCOLLECT_LOG_LEVEL={name!r}: use one of {', '.join(LEVELS)}")
    return LEVELS[name]


def configure_logging(level: int | None = None) -> None:
    """Attach the id-printing filter (or JSON formatter) to every root handler; adds a stderr
    handler first if there is none. Safe to call more than once. `level`: the `paycollect`
    loggers' level (default: PAYCOLLECT_LOG_LEVEL)."""
    if level is None:
        level = level_from_env()
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=logging.WARNING,
                            format="%(asctime)s %(levelname)s [%(process)d] %(name)s: "
                                   "%(message)s")
    logging.getLogger("paycollect").setLevel(level)
    for name in CHATTY:
        logging.getLogger(name).setLevel(logging.WARNING)
    as_json = os.environ.get("PAYCOLLECT_LOG_FORMAT") == "json"
    for handler in root.handlers:
        if as_json:
            handler.setFormatter(JsonFormatter())
        elif not any(isinstance(f, KeyValueFilter) for f in handler.filters):
            handler.addFilter(KeyValueFilter())
