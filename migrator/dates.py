"""Date forms services use, turned into the record's: UTC `...Z` and local wall-clock ISO times."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

_WALL_CLOCK = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2}):(\d{2}))?")


def utc_from_epoch(value: Any) -> str | None:
    """Epoch seconds (number or digit string) → "YYYY-MM-DDTHH:MM:SSZ"; 0, negative or garbage → None."""
    if isinstance(value, bool):
        return None
    try:
        seconds = int(float(value)) if isinstance(value, (int, float)) else int(str(value).strip())
    except (TypeError, ValueError, OverflowError):  # OverflowError: an infinite or a 400-digit "date"
        return None
    if seconds <= 0:
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, OSError, ValueError):
        return None


def wall_clock(value: Any) -> tuple[str | None, str | None]:
    """`YYYY-MM-DD HH:MM:SS` as ipernity, flip and Flickr write it, zeros meaning unknown parts, →
    (local ISO time, granularity): a zero month gives "year", a zero day "month"; a zero year is unknown."""
    match = _WALL_CLOCK.fullmatch(str(value or "").strip())
    if match is None or int(match[1]) == 0:
        return None, None
    year, month, day = int(match[1]), int(match[2]), int(match[3])
    hour, minute, second = (int(g) if g else 0 for g in match.groups()[3:])
    granularity = "year" if month == 0 else "month" if day == 0 else "second"
    try:
        moment = datetime(year, month or 1, day or 1, hour, minute, second)
    except ValueError:
        return None, None
    return moment.strftime("%Y-%m-%dT%H:%M:%S"), granularity
