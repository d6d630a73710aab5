"""Logging: readable text by default, one JSON object per line with SCRM_LOG_FORMAT=json."""

from __future__ import annotations

import json
import logging
import sys

from scrm.settings import LogFormat, Settings


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, ensure_ascii=False)


def configure_logging(settings: Settings) -> None:
    root = logging.getLogger()
    handler = next((h for h in root.handlers if getattr(h, "_scrm", False)), None)
    if handler is None:
        handler = logging.StreamHandler(sys.stderr)
        handler._scrm = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    if settings.log_format == LogFormat.JSON:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.setLevel(settings.log_level.upper())
    # One line per outbound request drowns everything else; keep them for DEBUG.
    if root.level > logging.DEBUG:
        logging.getLogger("httpx").setLevel(logging.WARNING)
