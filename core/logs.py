"""JSON log lines that carry the request's correlation id (production.ini's formatter)."""
from __future__ import annotations

import datetime as dt
import json
import logging

from pyramid.threadlocal import get_current_request


class JSONFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, correlationId, exception."""

    def format(self, record: logging.LogRecord) -> str:
        request = get_current_request()
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "correlationId": getattr(request, "correlation_id", None),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)
