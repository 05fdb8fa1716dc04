"""Behaviour switches of the sandbox (all mutable while it runs)."""

from __future__ import annotations

import random
import threading
from collections import deque
from typing import Any

# name -> (default, help)
KNOB_DEFAULTS: dict[str, tuple[Any, str]] = {
    "latency": (0.0, "seconds added before every REST/upload/file answer; a number or a (min, max) pair"),
    "fault_rate": (0.0, "fraction of requests answered HTTP 500/502/503"),
    "rate_limit_429": (0.0, "fraction of requests answered HTTP 429 with Retry-After"),
    "retry_after": (1, "Retry-After value (seconds) sent with 429 answers"),
    "max_rps": (None, "answer 429 once more than this many REST/upload requests arrived in the last second"),
    "fault_targets": (("rest", "upload", "files"), "which endpoints random faults and bursts apply to "
                      "(rest, upload, files, oauth)"),
    "api_error_rate": (0.0, "fraction of REST calls answered stat=fail 105 (service unavailable)"),
    "search_lag": (0.0, "seconds before a new upload becomes visible to flickr.photos.search"),
    "search_cap": (4000, "photos.search answers error 20 past this offset"),
    "short_pages": (0.0, "probability that a non-final listing page is returned short (True = always)"),
    "originals_403": (False, "file host answers 403 for photo and video originals"),
    "video_without_original": (False, "getSizes has no 'Video Original' and play/orig answers 404"),
    "async_uploads": (False, "treat every upload as async=1 (ticketid answer)"),
    "async_delay": (0.5, "seconds until an async upload ticket completes"),
    "async_fail_rate": (0.0, "fraction of async tickets that complete with complete=2 (failed)"),
    "free_account": (False, "a free account: ispro=0, the upload limits (max_items, max_nonpublic), no replace, "
                            "and since 2025 no original and no size above 1024 px through the API, even for the "
                            "owner"),
    "max_items": (1000, "free account: maximum number of photos+videos"),
    "max_nonpublic": (50, "free account: maximum number of non-public items"),
    "max_videos": (None, "maximum number of videos (upload error 7 beyond it)"),
    "max_photo_bytes": (200 * 1024 * 1024, "photo size limit (upload error 8)"),
    "max_video_bytes": (1024 * 1024 * 1024, "video size limit (upload error 8)"),
    "videos_disabled": (False, "upload error 0 for videos"),
    "strict_video_filename": (False, "reject videos whose multipart filename has no extension (flickrapi #104)"),
    "max_sets": (None, "photosets.create error 3 beyond this many sets"),
    "max_set_photos": (None, "photosets.addPhoto error 10 beyond this many photos in a set"),
    "reject_dates_before": (None, "setDates date_posted earlier than this epoch -> error 4 "
                                  "(None = the account's creation time)"),
    "taken_range": (("1800-01-01 00:00:00", None), "(min, max) accepted date_taken; max None = now + 1 day; "
                                                    "outside -> setDates error 6"),
    "geo_refuse": (False, "geo.setLocation answers error 7 (no default geo privacy)"),
    "default_license": (0, "license id a new upload gets (the account's default license setting)"),
    "strict_checktoken": (False, "flickr.auth.oauth.checkToken requires the oauth_token argument (98 otherwise)"),
    "auth_failure_mode": ("error", "'error': REST/upload auth failures are stat=fail 96-100; "
                                   "'401': HTTP 401 oauth_problem=... answers"),
    "timestamp_window": (None, "reject OAuth timestamps further than this many seconds from now"),
    "hang_seconds": (30.0, "how long a 'hang' fault holds the connection without answering before dropping it "
                           "(the sandbox's stop ends it at once)"),
}

# How a committed call's answer can be lost (see Knobs.lose_answer).
LOSS_KINDS = ("reset", "hang", "truncate")


class Knobs:
    """Attribute bag of knobs plus request-level fault scheduling.

    ``burst(n, status)`` makes the next *n* requests fail, not carried out: an HTTP status
    (429, 500, 502, 503, ...), a Flickr error code below 200 (e.g. 105, 106:
    HTTP 200 with stat=fail, REST only), ``"reset"`` (connection dropped) or ``"hang"``
    (held ``hang_seconds`` without an answer). ``outage()`` makes every request fail until
    ``end_outage()``. ``lose_answer(method, n, how)`` carries the call out, then loses its answer."""

    def __init__(self, seed: int = 0, **values: Any) -> None:
        object.__setattr__(self, "_lock", threading.Lock())
        object.__setattr__(self, "_rng", random.Random(f"knobs:{seed}"))
        object.__setattr__(self, "_bursts", deque())
        object.__setattr__(self, "_recent", deque())
        object.__setattr__(self, "_losses", {})
        object.__setattr__(self, "_outage", None)
        for name, (default, _help) in KNOB_DEFAULTS.items():
            object.__setattr__(self, name, default)
        self.set(**values)

    def set(self, **values: Any) -> Knobs:
        for k, v in values.items():
            setattr(self, k, v)
        return self

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in KNOB_DEFAULTS:
            raise AttributeError(f"unknown sandbox knob {name!r}; known: {', '.join(sorted(KNOB_DEFAULTS))}")
        object.__setattr__(self, name, value)

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in KNOB_DEFAULTS}

    def reset(self) -> None:
        for name, (default, _help) in KNOB_DEFAULTS.items():
            object.__setattr__(self, name, default)
        with self._lock:
            self._bursts.clear()
            self._losses.clear()
            object.__setattr__(self, "_outage", None)

    # -- faults ----------------------------------------------------------------------------------
    def burst(self, n: int, status: int | str = 503, targets: tuple[str, ...] | None = None) -> None:
        """The next ``n`` requests (to ``targets``, default ``fault_targets``) fail with ``status``."""
        with self._lock:
            for _ in range(int(n)):
                self._bursts.append((status, tuple(targets) if targets else None))

    def lose_answer(self, method: str, n: int = 1, how: int | str = "500") -> None:
        """The next ``n`` calls of ``method`` (a REST method name, ``"upload"`` or ``"replace"``) are
        carried out and committed, then their answer is lost: an HTTP status (``"500"``, 502, 503, ...),
        ``"reset"`` (TCP reset), ``"hang"`` (held ``hang_seconds`` without a byte, then dropped) or
        ``"truncate"`` (half the body under the full Content-Length, then the connection closes).

        This is the failure exactly-once code must survive: the server did the work, the client
        cannot know it. Calls Flickr refuses (stat=fail) lose their answer too."""
        kind = _loss_kind(how)
        with self._lock:
            queue = self._losses.setdefault(method, deque())
            queue.extend([kind] * int(n))

    def take_loss(self, method: str) -> str | None:
        """How this call's answer is lost, if a ``lose_answer`` is pending for its method."""
        with self._lock:
            queue = self._losses.get(method)
            if not queue:
                return None
            kind = queue.popleft()
            if not queue:
                del self._losses[method]
            return kind

    @property
    def pending_losses(self) -> int:
        with self._lock:
            return sum(len(q) for q in self._losses.values())

    def outage(self, status: int | str = 503, from_method: str | None = None) -> None:
        """Every request to ``fault_targets`` fails with ``status`` (an HTTP status, ``"reset"`` or
        ``"hang"``) until :meth:`end_outage`: from now on, or from the first call of ``from_method``
        on (that call included, and not carried out). A persistent outage, unlike a burst."""
        with self._lock:
            object.__setattr__(self, "_outage", {"status": status, "from": from_method, "started": from_method is None})

    def end_outage(self) -> None:
        with self._lock:
            object.__setattr__(self, "_outage", None)

    @property
    def outage_started(self) -> bool:
        with self._lock:
            return bool(self._outage and self._outage["started"])

    def _outage_status(self, target: str, method: str | None) -> int | str | None:
        """Called with the lock held."""
        out = self._outage
        if out is None or target not in self.fault_targets:
            return None
        if not out["started"] and method is not None and method == out["from"]:
            out["started"] = True
        return out["status"] if out["started"] else None

    @property
    def pending_bursts(self) -> int:
        with self._lock:
            return len(self._bursts)

    def random(self) -> float:
        with self._lock:
            return self._rng.random()

    def choice(self, seq):
        with self._lock:
            return self._rng.choice(seq)

    def delay(self) -> float:
        lat = self.latency
        if isinstance(lat, (tuple, list)):
            lo, hi = lat
            with self._lock:
                return self._rng.uniform(float(lo), float(hi))
        return float(lat or 0.0)

    def pick_fault(self, target: str, now: float, method: str | None = None) -> int | str | None:
        """Decide whether this request fails at transport level. Returns a status or None
        (``"reset"``, ``"hang"``, an HTTP status, or a Flickr error code below 200)."""
        with self._lock:
            if target in ("rest", "upload"):
                self._recent.append(now)
                while self._recent and self._recent[0] < now - 1.0:
                    self._recent.popleft()
            down = self._outage_status(target, method)
            if down is not None:
                return down
            for idx, (status, targets) in enumerate(self._bursts):
                if target in (targets or self.fault_targets):
                    del self._bursts[idx]
                    return status
            if target not in self.fault_targets:
                return None
            if self.max_rps and target in ("rest", "upload") and len(self._recent) > self.max_rps:
                return 429
            if self.rate_limit_429 and self._rng.random() < self.rate_limit_429:
                return 429
            if self.fault_rate and self._rng.random() < self.fault_rate:
                return self._rng.choice((500, 502, 503))
            if target == "rest" and self.api_error_rate and self._rng.random() < self.api_error_rate:
                return 105
        return None


def _loss_kind(how: int | str) -> str:
    text = str(how).strip().lower()
    if text in LOSS_KINDS or (text.isdigit() and 400 <= int(text) <= 599):
        return text
    raise ValueError(f"lose_answer: how must be an HTTP status 4xx/5xx or one of {', '.join(LOSS_KINDS)}, "
                     f"not {how!r}")
