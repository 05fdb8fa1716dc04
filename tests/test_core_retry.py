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
from migrator.http import Again, Connections, Download, RetryPolicy, http_trouble, new_session, retry_after, retrying

FAST = RetryPolicy(attempts=6, first_delay=0.0)
TRANSPORTS = pytest.mark.parametrize("transport", [new_session, Connections], ids=["requests", "urllib3"])


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
    """Answers every GET by `mode`: 'ok', '404', '503', '429', 'reset' (no answer), 'cut' (body cut short)
    or 'redirect' (302 to /moved.jpg); it records each request's path and the connections used."""

    def __init__(self) -> None:
        self.mode, self.gets, self.body = "ok", 0, b"x" * 4096
        self.script: list[str] = []
        self.paths: list[str] = []
        self.connections: set[tuple[str, int]] = set()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                stub.gets += 1
                stub.paths.append(self.path)
                stub.connections.add(self.client_address)
                mode = stub.script.pop(0) if stub.script else stub.mode
                if mode == "redirect":
                    self.send_response(302)
                    self.send_header("Location", "/moved.jpg")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
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
@TRANSPORTS
def test_download_failing_to_open_makes_exactly_the_policy_attempts(stub, mode, transport):
    stub.mode = mode
    with pytest.raises(DocumentError) as info:
        Download(transport(), stub.url, "doc 1", FAST)()
    assert not isinstance(info.value, TransientError)  # the run loop does not start again
    assert stub.gets == FAST.attempts


@TRANSPORTS
def test_download_waits_out_a_429_with_its_retry_after(stub, transport):
    stub.script = ["429"]
    sleeps = Sleeps()
    stream = Download(transport(), stub.url, "doc 1", RetryPolicy(attempts=3, first_delay=0.5), sleeps)()
    assert stream.read(1 << 20) == stub.body
    assert stub.gets == 2 and sleeps == [2.0]


@TRANSPORTS
def test_download_budget_spans_the_run_loops_reopens(stub, transport):
    """A body cut short is the run loop's to retry, but every failure, on opening or mid-body, counts
    against the same budget: at most `attempts` failed GETs for the document, then a final error."""
    stub.script = ["503", "cut", "reset", "cut"]
    download = Download(transport(), stub.url, "doc 1", RetryPolicy(attempts=4, first_delay=0.0), Sleeps())
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


@TRANSPORTS
def test_download_final_status_is_not_retried(stub, transport):
    stub.mode = "404"
    with pytest.raises(DocumentError) as info:
        Download(transport(), stub.url, "doc 1", FAST)()
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


# -- Connections: the urllib3 pool of the hot paths ------------------------------------------------------------
@pytest.mark.parametrize("mode", ["503", "reset"])
def test_connections_never_retry_underneath(stub, mode):
    stub.mode = mode
    try:
        assert Connections().get(stub.url).status_code == 503
    except Exception as exc:
        assert mode == "reset" and http_trouble(exc) == Again()  # the one policy above will try again
    assert stub.gets == 1


def test_connections_follow_a_redirect_and_keep_the_connection(stub):
    connections = Connections()
    stub.script = ["redirect"]
    stream = Download(connections, stub.url, "doc 1", FAST)()
    assert stream.read(1 << 20) == stub.body and stream.read(1 << 20) == b""
    stream.close()
    answer = connections.get(stub.url)
    assert answer.content == stub.body
    assert stub.paths == ["/file.jpg", "/moved.jpg", "/file.jpg"]
    assert len(stub.connections) == 1  # a body read to the end gives its connection back


def test_connections_drop_a_connection_whose_body_was_left_unread(stub):
    stub.body = b"x" * (1 << 20)
    connections = Connections()
    answer = connections.get(stub.url, stream=True)
    assert answer.raw.read(10) == b"x" * 10
    answer.close()
    assert connections.get(stub.url).content == stub.body  # not the rest of the first body
    assert len(stub.connections) == 2


def test_connections_use_the_proxy_the_environment_names(stub, monkeypatch):
    """As requests does: HTTP_PROXY is honoured (the stub plays the proxy), NO_PROXY exempts a host."""
    monkeypatch.setenv("HTTP_PROXY", stub.url.rsplit("/", 1)[0])
    monkeypatch.setenv("NO_PROXY", "direct.invalid")
    monkeypatch.delenv("http_proxy", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert Connections().get("http://photos.invalid/a.jpg").content == stub.body
    assert stub.paths == ["http://photos.invalid/a.jpg"]  # a proxy gets the absolute URL
    with pytest.raises(Exception) as info:
        Connections(timeout=5).get("http://direct.invalid/a.jpg")
    assert http_trouble(info.value) == Again() and stub.gets == 1


def test_connections_answer_json_and_post_a_form(stub):
    stub.body = b'{"api": {"status": "ok"}}'
    connections = Connections()
    assert connections.get(stub.url).json() == {"api": {"status": "ok"}}
    assert connections.post(stub.url, {"a": "1"}).status_code == 501  # the stub has no do_POST


def test_a_refused_connection_is_named_alike_whatever_the_library():
    """urllib3 and requests fail differently; messages and the "cannot reach" warning name both alike."""
    import socket

    from migrator.http import failure_name, host_of, network_reason, unreachable

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again before the requests below
    url = f"http://127.0.0.1:{port}/x"
    failures = []
    for transport in (Connections(), new_session()):
        with pytest.raises(Exception) as info:
            transport.get(url)
        failures.append(info.value)
    for exc in failures:
        assert unreachable(exc) and failure_name(exc) == "ConnectionError"
        assert network_reason(exc) == "Connection refused" and host_of(exc) == f"127.0.0.1:{port}"
    assert not unreachable(ValueError("x")) and failure_name(ValueError("x")) == "ValueError"
