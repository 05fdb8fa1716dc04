"""``python -m migrator_ipernity.sandbox`` and sandbox-level determinism."""

import os
import subprocess
import sys

import pytest
import requests
from migrator_ipernity.sandbox import IpernitySandbox, build_account
from migrator_ipernity.sandbox.signing import sign

PLUGIN_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_cli_prints_credentials_and_serves():
    env = dict(os.environ)
    env["PYTHONPATH"] = PLUGIN_DIR + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.Popen([sys.executable, "-m", "migrator_ipernity.sandbox", "--seed", "3", "--port", "0"],
                            stdout=subprocess.PIPE, text=True, env=env)
    try:
        info = {}
        while "token" not in info:
            line = proc.stdout.readline()
            assert line, "sandbox exited early"
            key, _, value = line.strip().partition(" ")
            info[key] = value.strip()
        assert info["api_url"].startswith("http://127.0.0.1:") and info["api_url"].endswith("/api/")
        params = sign({"api_key": info["api_key"], "auth_token": info["token"]}, "auth.checkToken",
                      info["api_secret"])
        body = requests.post(info["api_url"] + "auth.checkToken", data=params, timeout=10).json()
        assert body["auth"]["permissions"] == {"doc": "read"}
        assert body["auth"]["user"]["user_id"] == build_account(3).user.user_id
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()


def test_same_seed_same_answers(make_client):
    answers = []
    for _ in range(2):
        with IpernitySandbox(seed=3) as sb:
            client = make_client(sb, sb.grant_token())
            body = client.ok("doc.getList", per_page=100, extra="dates,count,geo,original,md5")
            text = requests.compat.json.dumps(body).replace(sb.api_url[:-len("/api/")], "BASE")
            answers.append((sb.api_key, sb.api_secret, text))
    assert answers[0] == answers[1]


@pytest.mark.parametrize("seed", [1, 2, 3, 42])
def test_invariants_hold_for_other_seeds(seed):
    acc = build_account(seed)
    assert {d.media for d in acc.docs} == {"photo", "video", "audio", "other"}
    assert len({(d.ispublic, d.isfriend, d.isfamily) for d in acc.docs}) == 8
    assert {d.license for d in acc.docs} == {0, 1, 3, 5, 7, 9, 11, 255}
    assert max(len(d.comments) for d in acc.docs) > 100
    assert max(len(a.doc_ids) for a in acc.albums) > 100
    assert min(len(a.doc_ids) for a in acc.albums) == 0
