"""The service layer every HTTP plugin's client is written against (see docs/plugins.md, "Talking to a web service").

A client keeps only what is its service's own: how a request is signed and sent, the endpoints, and
its table of error codes. This module does the rest, the same way for every service:

* `ServiceCalls.request` paces the call (one `Pacer` for all the client's workers), counts it, and
  tries it under the one `RetryPolicy` of migrator.http: a read is repeated while its failure is
  transient; a call that creates something is sent once, and a lost answer raises `AnswerLost` (the
  plugin looks before creating again); a refusal in which the service did nothing (HTTP 429, a rate
  limit) is waited out and sent again, whatever the call.
* Failures are sorted into one vocabulary, `Kind`, by the client's `classify` function, which looks
  error codes and HTTP statuses up in the client's `ErrorTable`; each kind ends as one of the core
  errors (migrator.errors). A failure without a verdict is a bug and propagates as it is.
* `read_pages` walks a `page`/`pages` listing: a page shorter than it should be is asked again
  (`tries`), the answers merged, and the page count and total are taken from the latest answer.
"""

from __future__ import annotations

import enum
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from . import http
from .checkpoints import checkpoint
from .errors import (
    AnswerLost,
    AuthorizationNeeded,
    DocumentError,
    MigratorError,
    QuotaExceeded,
    ServiceStopped,
    UsageError,
)
from .http import Again, Pacer, RetryPolicy, retrying

T = TypeVar("T")
LOST = "lost"  # the error-table row for a request without a usable answer (reset, timeout, unreadable body)


class Kind(enum.Enum):
    """What a failure means. The transient kinds are tried again under the policy; the others end the
    call at once with their error."""

    REFUSED = "refused"  # transient, and the service did nothing (429, a rate limit): any call is sent again
    TRANSIENT = "transient"  # the answer was lost or the service failed briefly: it may have taken effect
    QUOTA = "quota"  # QuotaExceeded: the run stops cleanly, a later run goes on
    STOPPED = "stopped"  # ServiceStopped: the service is unavailable for this run
    AUTHORIZATION = "authorization"  # AuthorizationNeeded: the user has to run `migrator auth`
    USAGE = "usage"  # UsageError: the configuration is wrong (a rejected key)
    DOCUMENT = "document"  # this request failed for good: a DocumentError, or the client's own error

    @property
    def transient(self) -> bool:
        return self in (Kind.REFUSED, Kind.TRANSIENT)

    def error(self, message: str) -> MigratorError:
        """The core error of this kind; for a transient kind, the one raised when the policy is used up."""
        return _ERRORS[self](message)


_ERRORS: dict[Kind, Callable[[str], MigratorError]] = {
    Kind.REFUSED: ServiceStopped, Kind.TRANSIENT: ServiceStopped, Kind.QUOTA: QuotaExceeded,
    Kind.STOPPED: ServiceStopped, Kind.AUTHORIZATION: AuthorizationNeeded, Kind.USAGE: UsageError,
    Kind.DOCUMENT: DocumentError,
}


@dataclass(frozen=True)
class Trouble:
    """A classified failure. `error` is what the caller sees when the failure ends the call (at once for
    a final kind, when the policy is used up for a transient one); `reason` names the failure in
    messages; `after` is the server's Retry-After, in seconds."""

    kind: Kind
    error: Exception
    reason: str = ""
    after: float | None = None


@dataclass(frozen=True)
class Rule:
    """One row of an error table: the kind, and the message as a `str.format` template (the fields are
    the ones the client passes to `ErrorTable.trouble`, plus `code`)."""

    kind: Kind
    message: str


class ErrorTable:
    """A service's error codes → `Rule`s. An HTTP status is looked up as `"http<status>"`, then by its
    class (`"http5xx"`); a code without a row gets `default` (None: no verdict, the caller decides)."""

    def __init__(self, rules: Mapping[object, Rule], default: Rule | None = None) -> None:
        self.rules, self.default = dict(rules), default

    def __or__(self, more: Mapping[object, Rule]) -> ErrorTable:
        """This table with more rows (e.g. the codes one endpoint adds)."""
        return ErrorTable({**self.rules, **more}, self.default)

    def rule(self, code: object) -> Rule | None:
        rule = self.rules.get(code)
        if rule is None and isinstance(code, str) and len(code) == 7 and code.startswith("http"):
            rule = self.rules.get(code[:5] + "xx")
        return rule or self.default

    def trouble(self, code: object, *, after: float | None = None, reason: str = "",
                **fields: Any) -> Trouble | None:
        """The verdict for error `code` (a status as `"http<status>"`), its message filled in."""
        rule = self.rule(code)
        if rule is None:
            return None
        message = rule.message.format_map(_Fields(code=code, reason=reason, **fields))
        return Trouble(rule.kind, rule.kind.error(message), reason, after)


class _Fields(dict):  # type: ignore[type-arg]
    """Message fields; one the client did not pass reads "?" (an error path must not fail on its message)."""

    def __missing__(self, key: str) -> str:
        return "?"


def brief(exc: BaseException) -> str:
    """An exception's class and the start of its text, for messages (never a whole HTML page, never a
    word cut in two). A connection failure says what failed, without urllib3's wrapping."""
    text = http.network_reason(exc) or " ".join(str(exc).split())
    if len(text) > 120:
        text = text[:121].rsplit(" ", 1)[0].rstrip(" ,;:(") + " …"
    return http.failure_name(exc) + (f": {text}" if text else "")


class _Failed(Exception):
    def __init__(self, trouble: Trouble, cause: Exception | None = None) -> None:
        super().__init__(trouble.reason)
        self.trouble, self.cause = trouble, cause


class ServiceCalls:
    """The requests of one client: paced for all its workers together, counted, tried under one policy.

    `checkpoints` names the kill-matrix checkpoints `<name>:call:<method>` (before the request) and
    `<name>:answer:<method>` (the service answered, nothing here has read it yet); None: none."""

    def __init__(self, service: str, policy: RetryPolicy, rate: float = 0.0,
                 count: Callable[[str], None] | None = None, checkpoints: str | None = None,
                 burst: int = 1) -> None:
        self.service, self.policy, self.pacer = service, policy, Pacer(rate, burst)
        self._count = count or (lambda method: None)
        self._checkpoints = checkpoints
        self._unreachable = False  # told the user the service cannot be reached; reset by an answer
        self._told = threading.Lock()
        self.log = logging.getLogger(f"migrator.{service.lower()}")

    def request(self, method: str, send: Callable[[], T], classify: Callable[[Exception], Trouble | None], *,
                creates: bool = False, before_retry: Callable[[], None] | None = None) -> T:
        """`send()` once or under the policy, as its failures' kinds say. `creates`: the call makes
        something, so a transient failure raises AnswerLost instead of being repeated. `before_retry`
        runs before a refused call is sent again (e.g. to rewind a file)."""

        failures = 0

        def attempt() -> T:
            self.pacer.wait()
            self._count(method)
            self._mark("call", method)
            self.log.debug("call %s", method)
            try:
                answer = send()
            except Exception as exc:
                trouble = classify(exc)
                if trouble is None:
                    raise
                raise _Failed(trouble, exc) from None
            self._mark("answer", method)
            self._unreachable = False
            return answer

        def again(exc: Exception) -> Again | None:
            nonlocal failures
            trouble = exc.trouble if isinstance(exc, _Failed) else None
            if trouble is None or not trouble.kind.transient or (creates and trouble.kind is Kind.TRANSIENT):
                return None
            if trouble.kind is Kind.REFUSED and before_retry is not None:
                before_retry()
            failures += 1
            self._tell_retry(method, exc.cause, trouble, failures)  # type: ignore[attr-defined]
            return Again(trouble.after)

        try:
            return retrying(attempt, again, lambda exc: exc.trouble.error, self.policy)  # type: ignore[attr-defined]
        except _Failed as failed:
            trouble = failed.trouble
            if trouble.kind is Kind.TRANSIENT:  # a creating call
                raise AnswerLost(f"{self.service} {method}: the answer was lost ({trouble.reason}); it may have "
                                 "taken effect: look it up before trying again") from None
            raise trouble.error from None

    def _tell_retry(self, method: str, cause: Exception | None, trouble: Trouble, failures: int) -> None:
        """Say what is being retried: at once (a warning) when the service cannot be reached at all, the
        first time, with the retry plan, so a run without network is not silent for the whole policy; every
        other retry with -v."""
        policy = self.policy or http.DEFAULT_POLICY
        more = policy.attempts - failures
        within = sum(policy.delay(n) or 0.0 for n in range(failures, policy.attempts))
        if more <= 0:
            return  # the last try failed: the caller's error says so
        plan = f"retrying {more} more time{'s' if more != 1 else ''} over up to {within:.0f} s"
        if cause is not None and http.unreachable(cause):
            with self._told:
                first, self._unreachable = not self._unreachable, True
            if first:
                host = http.host_of(cause) or self.service
                self.log.warning("cannot reach %s (%s): %s", host, http.network_reason(cause) or brief(cause), plan)
                return
        self.log.info("%s: %s: %s", method, trouble.reason or "failed", plan)

    def _mark(self, step: str, method: str) -> None:
        if self._checkpoints:
            checkpoint(f"{self._checkpoints}:{step}:{method}")


# -- paged listings -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Page:
    """One answer for page `number` of a listing: the collection object as answered, its items, and the
    page count and total it announces (`total` None when it says none)."""

    number: int
    block: dict[str, Any]
    items: list[dict[str, Any]]
    pages: int
    total: int | None = None

    def expected(self, per_page: int) -> int:
        """How many items the page should hold: the rest of `total` up to a full page; without a total, a
        full page before the last, and any number on the last."""
        if self.total is not None:
            return max(0, min(per_page, self.total - (self.number - 1) * per_page))
        return per_page if self.number < self.pages else 0


def latest(answers: list[Page]) -> tuple[Page, bool]:
    """The newest answer for a page, keeping the items of an earlier one when it came back empty."""
    page = answers[-1]
    if not page.items:
        earlier = next((a.items for a in reversed(answers) if a.items), [])
        page = replace(page, items=earlier)
    return page, True


def read_pages(read: Callable[[int], Page], per_page: int, *, tries: int = 1,
               merge: Callable[[list[Page]], tuple[Page, bool]] = latest) -> Iterator[Page]:
    """Every page of a listing, from page 1 until the announced page count or an empty page.

    A page with fewer items than `Page.expected` is asked again, `tries` answers at most, and the
    answers combined by `merge`, which also says whether they are settled (e.g. their order is
    known); the page count and total are those of the latest answer, as the listing may change."""
    number = 1
    while True:
        answers: list[Page] = []
        for _ in range(max(tries, 1)):
            answers.append(read(number))
            page, settled = merge(answers)
            if settled and len(page.items) >= page.expected(per_page):
                break
        yield page
        if not page.items or number >= page.pages:
            return
        number += 1
