"""The one retry layer: RetryPolicy, retrying(), sessions without urllib3 retries, downloads with a budget.

Policy tests use a fake sleep (no timed assertions); transport tests use a loopback stub server that
counts the requests it gets."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from migrator.errors import AnswerLost, DocumentError, ServiceStopped, TransientError
from migrator.http import Again, Download, RetryPolicy, new_session, retry_after, retrying

FAST = RetryPolicy(attempts=6, first_delay=0.0)


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


# -- the policy ---------------------------------------------------------------------------------------
def test_policy_delays_double_up_to_the_cap():
    policy = RetryPolicy(attempts=6, first_delay=1.0, factor=2.0, cap=5.0)
    assert [policy.delay(n) for n in range(1, 7)] == [1.0, 2.0, 4.0, 5.0, 5.0, None]
    assert policy.bounded() == 17.0


def test_policy_honours_retry_after_within_the_cap():
    policy = RetryPolicy(attempts=4, first_delay=1.0, cap=30.0)
    assert policy.delay(1, retry_after=7) == 7  # longer than the backoff: the server's word wins
    assert policy.delay(3, retry_after=1) == 4.0  # shorter: the backoff still applies
    assert policy.delay(1, retry_after=31) is None  # beyond the cap: stop now rather than stall the run
    assert policy.delay(4, retry_after=0) is None  # attempts used up


@pytest.mark.parametrize("bad", [dict(attempts=0), dict(first_delay=-1), dict(factor=0.5), dict(cap=-1)])
def test_policy_rejects_nonsense(bad):
    with pytest.raises(ValueError):
        RetryPolicy(**bad)


def test_default_policy_is_six_attempts_and_bounded():
    policy = RetryPolicy()
    assert policy.attempts == 6 and [policy.delay(n) for n in range(1, 6)] == [1, 2, 4, 8, 16]
    assert policy.bounded() == 31


# -- retrying() -----------------------------------------------------------------------------------------
def _flaky(failures: list[Exception], result: str = "ok"):
    calls = []

    def attempt() -> str:
        calls.append(1)
        if failures:
            raise failures.pop(0)
        return result
    return attempt, calls


def _stopped(exc: Exception) -> ServiceStopped:
    return ServiceStopped(f"gave up ({exc})")


def _retry_oserror(exc: Exception) -> Again | None:
    return Again(getattr(exc, "after", None)) if isinstance(exc, OSError) else None


def test_retrying_sleeps_the_policy_then_succeeds():
    sleeps = Sleeps()
    attempt, calls = _flaky([OSError("a"), OSError("b"), OSError("c")])
    assert retrying(attempt, _retry_oserror, _stopped, RetryPolicy(attempts=6), sleeps) == "ok"
    assert len(calls) == 4 and sleeps == [1.0, 2.0, 4.0]


def test_retrying_gives_up_after_exactly_the_attempts_with_a_final_error():
    sleeps = Sleeps()
    attempt, calls = _flaky([OSError(str(n)) for n in range(10)])
    with pytest.raises(ServiceStopped) as info:
        retrying(attempt, _retry_oserror, _stopped, RetryPolicy(attempts=4, cap=3), sleeps)
    assert len(calls) == 4 and sleeps == [1.0, 2.0, 3.0]
    assert not isinstance(info.value, TransientError)  # the run loop must not repeat the policy


def test_retrying_honours_retry_after_and_stops_on_a_long_one():
    sleeps = Sleeps()
    slow, too_slow = OSError("429"), OSError("429")
    slow.after, too_slow.after = 5.0, 3600.0
    attempt, calls = _flaky([slow, too_slow])
    with pytest.raises(ServiceStopped):
        retrying(attempt, _retry_oserror, _stopped, RetryPolicy(attempts=6, cap=60), sleeps)
    assert len(calls) == 2 and sleeps == [5.0]


def test_retrying_passes_a_final_failure_at_once():
    attempt, calls = _flaky([KeyError("no such photo")])
    with pytest.raises(KeyError):
        retrying(attempt, _retry_oserror, _stopped, FAST, Sleeps())
    assert len(calls) == 1


def test_retrying_refuses_a_transient_give_up():
    attempt, _ = _flaky([OSError("x")])
    with pytest.raises(TypeError):
        retrying(attempt, _retry_oserror, lambda exc: AnswerLost("x"), RetryPolicy(attempts=1), Sleeps())


def test_answer_lost_is_transient():
    assert issubclass(AnswerLost, TransientError)


def test_retry_after_header():
    def response(value: str | None) -> requests.Response:
        r = requests.Response()
        if value is not None:
            r.headers["Retry-After"] = value
        return r
    assert retry_after(response("7")) == 7.0
    assert retry_after(response("Wed, 21 Oct 2015 07:28:00 GMT")) == 0.0  # a date in the past: now
    assert retry_after(response("soon")) is None
    assert retry_after(response(None)) is None and retry_after(None) is None


# -- transport against a counting stub server ---------------------------------------------------------------
class Stub:
    """Answers every GET by `mode`: 'ok', '404', '503', '429', 'reset' (no answer) or 'cut' (body cut short)."""

    def __init__(self) -> None:
        self.mode, self.gets, self.body = "ok", 0, b"x" * 4096
        self.script: list[str] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                stub.gets += 1
                mode = stub.script.pop(0) if stub.script else stub.mode
                if mode == "reset":
                    self.close_connection = True
                    return
                status = {"404": 404, "503": 503, "429": 429}.get(mode, 200)
                body = b"busy" if status != 200 else stub.body
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                if status == 429:
                    self.send_header("Retry-After", "2")
                self.end_headers()
                self.wfile.write(body[:100] if mode == "cut" else body)
                if mode == "cut":
                    self.close_connection = True

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/file.jpg"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def stub() -> Iterator[Stub]:
    s = Stub()
    yield s
    s.server.shutdown()
    s.server.server_close()


@pytest.mark.parametrize("mode", ["503", "reset"])
def test_session_never_retries_underneath(stub, mode):
    stub.mode = mode
    session = new_session()
    try:
        response = session.get(stub.url)
        assert response.status_code == 503
    except requests.ConnectionError:
        assert mode == "reset"
    assert stub.gets == 1  # urllib3 left it to the one policy above


def test_session_keeps_a_timeout_on_every_request():
    session = new_session(timeout=7.5)
    assert session._timeout == 7.5  # type: ignore[attr-defined]
    assert session.get_adapter("https://x").max_retries.total == 0


@pytest.mark.parametrize("mode", ["503", "reset"])
def test_download_failing_to_open_makes_exactly_the_policy_attempts(stub, mode):
    stub.mode = mode
    with pytest.raises(DocumentError) as info:
        Download(new_session(), stub.url, "doc 1", FAST)()
    assert not isinstance(info.value, TransientError)  # the run loop does not start again
    assert stub.gets == FAST.attempts


def test_download_waits_out_a_429_with_its_retry_after(stub):
    stub.script = ["429"]
    sleeps = Sleeps()
    stream = Download(new_session(), stub.url, "doc 1", RetryPolicy(attempts=3, first_delay=0.5), sleeps)()
    assert stream.read(1 << 20) == stub.body
    assert stub.gets == 2 and sleeps == [2.0]


def test_download_budget_spans_the_run_loops_reopens(stub):
    """A body cut short is the run loop's to retry, but every failure, on opening or mid-body, counts
    against the same budget: at most `attempts` failed GETs for the document, then a final error."""
    stub.script = ["503", "cut", "reset", "cut"]
    download = Download(new_session(), stub.url, "doc 1", RetryPolicy(attempts=4, first_delay=0.0), Sleeps())
    stream = download()  # 503 then the cut one
    with pytest.raises(TransientError):
        stream.read(1 << 20)
    stream = download()  # reset then the second cut one, which uses up the budget
    with pytest.raises(DocumentError) as info:
        stream.read(1 << 20)
    assert not isinstance(info.value, TransientError)
    with pytest.raises(DocumentError):
        download()
    assert stub.gets == 4


def test_download_final_status_is_not_retried(stub):
    stub.mode = "404"
    with pytest.raises(DocumentError) as info:
        Download(new_session(), stub.url, "doc 1", FAST)()
    assert "HTTP 404" in str(info.value) and stub.gets == 1


def test_session_reads_proxy_settings_from_the_environment_once_per_host(monkeypatch):
    import requests

    from migrator.http import new_session
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    session = new_session()
    reads = []
    original = requests.Session.merge_environment_settings

    def counted(self, *args):
        reads.append(args[0])
        return original(self, *args)

    monkeypatch.setattr(requests.Session, "merge_environment_settings", counted)
    for _ in range(3):
        settings = session.merge_environment_settings("https://api.example/x?a=1", {}, False, None, None)
        assert settings["proxies"]["https"] == "http://proxy.example:3128"
        settings["proxies"].clear()  # a caller changing its copy changes nothing for the next request
    session.merge_environment_settings("https://other.example/", {}, False, None, None)
    explicit = session.merge_environment_settings("https://api.example/", {"https": "http://p:1"}, False, None, None)
    assert explicit["proxies"]["https"] == "http://p:1"
    assert reads == ["https://api.example/x?a=1", "https://other.example/", "https://api.example/"]
