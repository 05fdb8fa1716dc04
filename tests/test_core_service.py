"""The service layer's error tables and its one request runner (pacing, counting, retries, AnswerLost)."""

from __future__ import annotations

import pytest

from migrator.errors import (
    AnswerLost,
    AuthorizationNeeded,
    DocumentError,
    QuotaExceeded,
    ServiceStopped,
    UsageError,
)
from migrator.http import RetryPolicy
from migrator.service import LOST, ErrorTable, Kind, Rule, ServiceCalls, Trouble

FAST = RetryPolicy(attempts=4, first_delay=0.0)
TABLE = ErrorTable({
    7: Rule(Kind.AUTHORIZATION, "{service} refused the token (error {code})"),
    8: Rule(Kind.QUOTA, "quota used up ({message})"),
    9: Rule(Kind.USAGE, "bad key"),
    "http429": Rule(Kind.REFUSED, "{method} refused after {attempts}"),
    "http5xx": Rule(Kind.TRANSIENT, "{method} failed ({reason}) after {attempts}"),
    LOST: Rule(Kind.TRANSIENT, "{method} unanswered ({reason})"),
})


# -- the table ------------------------------------------------------------------------------------
@pytest.mark.parametrize("code, kind, error", [
    (7, Kind.AUTHORIZATION, AuthorizationNeeded), (8, Kind.QUOTA, QuotaExceeded), (9, Kind.USAGE, UsageError),
    ("http429", Kind.REFUSED, ServiceStopped), ("http503", Kind.TRANSIENT, ServiceStopped),
    (LOST, Kind.TRANSIENT, ServiceStopped),
])
def test_a_table_row_gives_its_kind_and_the_matching_core_error(code, kind, error):
    trouble = TABLE.trouble(code, service="svc", message="m", method="list", reason="r", attempts=4)
    assert trouble is not None and trouble.kind is kind and type(trouble.error) is error


def test_messages_are_filled_from_the_fields_and_the_code():
    trouble = TABLE.trouble(7, service="svc")
    assert str(trouble.error) == "svc refused the token (error 7)"
    trouble = TABLE.trouble("http502", method="list", reason="HTTP 502", attempts=4, after=3.0)
    assert str(trouble.error) == "list failed (HTTP 502) after 4" and trouble.after == 3.0


def test_a_status_row_wins_over_its_class_and_unknown_codes_get_the_default():
    table = TABLE | {"http503": Rule(Kind.STOPPED, "maintenance")}
    assert table.trouble("http503").kind is Kind.STOPPED and table.trouble("http500").kind is Kind.TRANSIENT
    assert TABLE.trouble(1) is None and TABLE.trouble("http404") is None  # no verdict: the client decides
    with_default = ErrorTable(TABLE.rules, default=Rule(Kind.DOCUMENT, "error {code}"))
    trouble = with_default.trouble(1)
    assert trouble.kind is Kind.DOCUMENT and isinstance(trouble.error, DocumentError)
    assert str(trouble.error) == "error 1"


def test_a_field_the_client_did_not_pass_reads_as_a_question_mark():
    assert str(TABLE.trouble(8).error) == "quota used up (?)"


def test_adding_rows_leaves_the_table_itself_alone():
    more = TABLE | {3: Rule(Kind.TRANSIENT, "upload failed")}
    assert more.trouble(3).kind is Kind.TRANSIENT and TABLE.trouble(3) is None


def test_only_refusals_and_transient_failures_are_transient():
    assert {k for k in Kind if k.transient} == {Kind.REFUSED, Kind.TRANSIENT}


# -- the runner -----------------------------------------------------------------------------------
class Boom(Exception):
    def __init__(self, key: object) -> None:
        super().__init__(str(key))
        self.key = key


def classify(exc: Exception) -> Trouble | None:
    return TABLE.trouble(exc.key, method="m", reason=str(exc.key), attempts=FAST.attempts, service="svc") \
        if isinstance(exc, Boom) else None


def runner(**kwargs) -> tuple[ServiceCalls, list[str]]:
    counted: list[str] = []
    return ServiceCalls("Svc", FAST, count=counted.append, **kwargs), counted


def sender(*failures: object, answer: str = "ok"):
    queue = list(failures)

    def send() -> str:
        if queue:
            raise Boom(queue.pop(0))
        return answer
    return send


def test_a_read_is_repeated_through_transient_failures_and_each_request_counted():
    calls, counted = runner()
    assert calls.request("m", sender("http502", LOST, "http429"), classify) == "ok"
    assert counted == ["m"] * 4


def test_a_read_that_keeps_failing_costs_the_policy_then_stops():
    calls, counted = runner()
    with pytest.raises(ServiceStopped, match="m failed"):
        calls.request("m", sender(*["http500"] * 10), classify)
    assert len(counted) == FAST.attempts


def test_a_creating_call_with_a_lost_answer_is_sent_once():
    calls, counted = runner()
    with pytest.raises(AnswerLost, match="Svc m: the answer was lost"):
        calls.request("m", sender(LOST), classify, creates=True)
    assert counted == ["m"]


def test_a_refused_creating_call_is_sent_again_after_its_rewind():
    calls, counted = runner()
    rewinds: list[int] = []
    assert calls.request("m", sender("http429"), classify, creates=True,
                         before_retry=lambda: rewinds.append(1)) == "ok"
    assert counted == ["m", "m"] and rewinds == [1]


@pytest.mark.parametrize("code, error", [(7, AuthorizationNeeded), (8, QuotaExceeded), (9, UsageError)])
def test_a_final_failure_ends_the_call_at_once(code, error):
    calls, counted = runner()
    with pytest.raises(error):
        calls.request("m", sender(code), classify)
    assert counted == ["m"]


def test_a_failure_without_a_verdict_is_a_bug_and_propagates_as_is():
    calls, counted = runner()
    with pytest.raises(Boom):
        calls.request("m", sender(1), classify)
    with pytest.raises(KeyError):
        calls.request("m", lambda: {}["x"], classify)
    assert counted == ["m", "m"]


def test_a_client_error_of_its_own_reaches_the_caller():
    calls, _ = runner()

    class NotFound(Exception):
        pass

    with pytest.raises(NotFound):
        calls.request("m", sender(1), lambda exc: Trouble(Kind.DOCUMENT, NotFound("gone")))


def test_checkpoints_name_the_call_and_the_answer(monkeypatch):
    seen: list[str] = []
    monkeypatch.setattr("migrator.service.checkpoint", seen.append)
    calls, _ = runner(checkpoints="svc")
    calls.request("m", sender(), classify)
    assert seen == ["svc:call:m", "svc:answer:m"]
    quiet, _ = runner()
    quiet.request("m", sender(), classify)
    assert seen == ["svc:call:m", "svc:answer:m"]


def test_every_request_waits_for_the_one_pacer():
    calls, _ = runner(rate=1000.0)
    waits: list[int] = []
    calls.pacer.wait = lambda: waits.append(1)  # type: ignore[method-assign]
    calls.request("m", sender("http502"), classify)
    assert len(waits) == 2


class _Clock:
    """A fake clock the pacer sleeps on: sleeping moves time forward."""

    def __init__(self) -> None:
        self.now = 100.0

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _starts(pacer, clock: _Clock, calls: int) -> list[float]:
    starts = []
    for _ in range(calls):
        pacer.wait()
        starts.append(round(clock.now - 100.0, 6))
    return starts


def test_pacer_sends_the_burst_at_once_then_paces_at_the_rate():
    from migrator.http import Pacer
    clock = _Clock()
    pacer = Pacer(2.0, burst=3, clock=lambda: clock.now, sleep=clock.sleep)
    assert _starts(pacer, clock, 6) == [0.0, 0.0, 0.0, 0.5, 1.0, 1.5]


def test_pacer_burst_one_spaces_every_call_and_an_idle_pacer_refills():
    from migrator.http import Pacer
    clock = _Clock()
    pacer = Pacer(1.0, burst=1, clock=lambda: clock.now, sleep=clock.sleep)
    assert _starts(pacer, clock, 3) == [0.0, 1.0, 2.0]
    clock = _Clock()
    pacer = Pacer(1.0, burst=2, clock=lambda: clock.now, sleep=clock.sleep)
    assert _starts(pacer, clock, 3) == [0.0, 0.0, 1.0]
    clock.now += 10.0  # idle long enough: the bucket is full again, but never more than the burst
    assert [round(t - 11.0, 6) for t in _starts(pacer, clock, 3)] == [0.0, 0.0, 1.0]

