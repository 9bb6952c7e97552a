"""Structured logs: one JSON object a line (or plain text for people at a terminal)."""

from __future__ import annotations

import logging
import sys

import orjson


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"), "level": record.levelname,
            "logger": record.name, "msg": record.getMessage(),
        }
        for key in ("message_id", "case_id", "worker", "channel"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(entry).decode()


# HTTP clients and the platform SDKs log request URLs, headers or bodies (OAuth signatures, form fields with
# passwords) at INFO and DEBUG: they stay at WARNING whatever ONEVOICE_LOG_LEVEL says, so that no token or
# secret reaches the logs even when someone turns logging up to debug a channel.
HTTP_CLIENT_LOGGERS = ("httpx", "httpcore", "h11", "hpack", "urllib3", "requests", "requests_oauthlib", "oauthlib",
                       "authlib", "tweepy", "praw", "prawcore", "mastodon", "atproto", "atproto_client",
                       "atproto_core", "websockets")


def configure_logging(level: str = "INFO", json: bool = True) -> None:
    handler = logging.StreamHandler(sys.stderr)
    plain = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handler.setFormatter(JsonFormatter() if json else plain)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("uvicorn.access").setLevel("WARNING")
    for name in HTTP_CLIENT_LOGGERS:
        logging.getLogger(name).setLevel("WARNING")
