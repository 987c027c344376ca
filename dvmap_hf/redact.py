"""Credentials never reach a file or a message: URLs lose their user, password and query values, and a
text loses any secret it was given and any `Bearer` token."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

HIDDEN = "***"
_BEARER = re.compile(r"(Bearer\s+)[^\s\"',;]+", re.IGNORECASE)


def redact_url(url: str | None) -> str | None:
    """`https://user:KEY@host/v1?key=K` -> `https://***@host/v1?key=***`."""
    if not url:
        return url
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{HIDDEN}@{netloc.rsplit('@', 1)[1]}"
    query = "&".join(f"{pair.partition('=')[0]}={HIDDEN}" if "=" in pair else pair for pair in parts.query.split("&"))
    return urlunsplit((parts.scheme, netloc, parts.path, query if parts.query else "", parts.fragment))


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    """`text` without the given secrets (API keys, a URL's credentials) and without bearer tokens."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, HIDDEN)
    return _BEARER.sub(rf"\1{HIDDEN}", text)
