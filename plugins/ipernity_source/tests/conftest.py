import os
import sys

import pytest

try:
    import migrator_ipernity  # noqa: F401
except ImportError:
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class SandboxClient:
    """Minimal signed client used by the sandbox tests (the real client lives elsewhere)."""

    def __init__(self, sb, token=None):
        import requests

        self.sb = sb
        self.token = token
        self.http = requests.Session()

    def raw(self, method, params=None, http="POST", fmt=None, sign=True, token=True):
        from migrator_ipernity.sandbox.signing import sign as do_sign

        params = dict(params or {})
        params.setdefault("api_key", self.sb.api_key)
        if token and self.token and "auth_token" not in params:
            params["auth_token"] = self.token
        if sign:
            params = do_sign(params, method, self.sb.api_secret)
        url = self.sb.api_url + method + (f"/{fmt}" if fmt else "")
        if http == "GET":
            return self.http.get(url, params=params, timeout=10)
        return self.http.post(url, data=params, timeout=10)

    def call(self, method, **params):
        opts = {k: params.pop(k) for k in ("http", "fmt", "sign", "token") if k in params}
        rsp = self.raw(method, params, **opts)
        assert rsp.status_code == 200, rsp.text
        return rsp.json()

    def ok(self, method, **params):
        body = self.call(method, **params)
        assert body["api"]["status"] == "ok", body
        return body

    def error(self, method, **params):
        body = self.call(method, **params)
        assert body["api"]["status"] == "error", body
        return int(body["api"]["code"])


@pytest.fixture(scope="module")
def module_sandbox():
    from migrator_ipernity.sandbox import IpernitySandbox

    sb = IpernitySandbox(seed=0).start()
    yield sb
    sb.stop()


@pytest.fixture
def sandbox(module_sandbox):
    """The shared seed-0 sandbox with default knobs and zeroed counters (do not edit its account)."""
    from migrator_ipernity.sandbox import Knobs

    for name, value in Knobs().as_dict().items():
        setattr(module_sandbox.knobs, name, value)
    module_sandbox.reset_counters()
    yield module_sandbox
    for name, value in Knobs().as_dict().items():
        setattr(module_sandbox.knobs, name, value)


@pytest.fixture
def fresh_sandbox():
    """A private sandbox whose account a test may change."""
    from migrator_ipernity.sandbox import IpernitySandbox

    with IpernitySandbox(seed=0) as sb:
        yield sb


@pytest.fixture
def make_client():
    """``make_client(sb, token=None)`` -> a signed test client."""
    return SandboxClient


@pytest.fixture
def owner(sandbox):
    return SandboxClient(sandbox, sandbox.grant_token("read"))


@pytest.fixture
def anon(sandbox):
    return SandboxClient(sandbox)
