"""The ipernity source end to end through the CLI, against the ipernity sandbox."""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import subprocess
from pathlib import Path

import pytest
from migrator_ipernity.client import api_sig, as_int, items_of, obj
from migrator_ipernity.mapping import geo, taken
from migrator_ipernity.sandbox.truth import expected_album, expected_document, without_raw

from migrator.records import Document, dumps
from migrator.testing.cli import query_value
from migrator.tokens import token_path


class Backup:
    """`migrator run ipernity folder` against a sandbox, with the test folder sink as the target."""

    def __init__(self, cli, sb, home: Path) -> None:
        self.cli, self.sb, self.home = cli, sb, home
        self.out, self.state = home / "out", home / "state.sqlite3"
        self.token = sb.grant_token(perm_doc="read")
        self.runs = 0

    def __call__(self, *extra: str) -> tuple[subprocess.CompletedProcess, dict]:
        self.runs += 1
        report = self.home / f"report{self.runs}.json"
        result = self.cli("run", "ipernity", "folder", *self.sb.cli_options(self.token),
                          "-o", f"folder.path={self.out}", "-o", "folder.skip_media=none",
                          "--state", str(self.state), "--report", str(report), *extra,
                          env={"MIGRATOR_LOAD_PLUGINS": "memtest,ipernity"})
        return result, (json.loads(report.read_text()) if report.exists() else {})

    def record(self, doc_id: str) -> dict:
        return json.loads((self.out / f"ipernity-{doc_id}.json").read_text("utf-8"))

    def stored_ids(self) -> set[str]:
        return {p.name[len("ipernity-"):-len(".bin")] for p in self.out.glob("ipernity-*.bin")}

    def assert_complete(self) -> None:
        """Every document of the account stored, every field as the ground truth says, bytes identical."""
        account = self.sb.account
        assert self.stored_ids() == {d.doc_id for d in account.docs}
        for doc in account.docs:
            record = self.record(doc.doc_id)
            expected = json.loads(dumps(expected_document(account, doc)))
            assert without_raw(record) == without_raw(expected), doc.doc_id
            data = (self.out / f"ipernity-{doc.doc_id}.bin").read_bytes()
            assert hashlib.md5(data).hexdigest() == doc.original.md5 and len(data) == doc.original.bytes
        for album in account.albums:
            stored = json.loads((self.out / f"album-{album.album_id}.json").read_text("utf-8"))
            assert without_raw(stored) == without_raw(json.loads(dumps(expected_album(account, album))))


@pytest.fixture
def backup(cli, fresh_sandbox, home) -> Backup:
    return Backup(cli, fresh_sandbox, home)


def test_signature_vectors():
    key, secret = "6fa87ba500002712bd4eed6020f3bd72", "e9a599f0cf6ce193"
    assert api_sig({"api_key": key, "doc_id": "1234", "keywords": "easy"}, "doc.tags.add", secret) == \
        "a269b218feb341ef03bc093a0f2c8078"
    assert api_sig({"api_key": key, "perm_network": "read"}, None, secret) == "da183021cd39461108770b822fcd9398"


def test_full_backup_field_by_field(backup):
    result, report = backup()
    assert result.returncode == 0, result.stderr
    backup.assert_complete()
    account = backup.sb.account
    calls = report["api_calls"]["ipernity"]
    n, in_albums = len(account.docs), sum(len(a.doc_ids) for a in account.albums)
    flip = 1 + -(-n // 100) + n + in_albums
    assert sum(calls.values()) <= flip
    assert calls["doc.get"] == n and calls["auth.checkToken"] == 1
    assert calls["doc.comments.getList"] == sum(1 for d in account.docs if d.comments) + 1  # one doc has 2 pages
    assert report["counts"]["new"] == n and report["counts"]["failed"] == 0
    assert "Traceback" not in result.stderr


def test_rerun_without_new_documents_is_cheap(backup):
    assert backup()[0].returncode == 0
    backup.sb.reset_counters()
    result, report = backup()
    assert result.returncode == 0
    assert sum(backup.sb.calls.values()) <= 3
    assert sum(backup.sb.downloads.values()) == 0
    assert report["counts"]["new"] == 0


def test_new_document_is_picked_up_incrementally(backup):
    assert backup()[0].returncode == 0
    backup.sb.reset_counters()
    doc = backup.sb.add_doc(title="brand new")
    result, report = backup()
    assert result.returncode == 0, result.stderr
    assert report["counts"]["new"] == 1
    assert backup.sb.calls["doc.get"] == 1 and dict(backup.sb.downloads) == {doc.doc_id: 1}
    assert backup.record(doc.doc_id)["title"] == "brand new"


def test_refresh_picks_up_edits_and_deletions(backup):
    assert backup()[0].returncode == 0
    edited, deleted = backup.sb.account.docs[3], backup.sb.account.docs[7]
    backup.sb.edit_doc(edited.doc_id, title="edited title")
    backup.sb.delete_doc(deleted.doc_id)
    backup.sb.reset_counters()
    result, report = backup("-o", "ipernity.refresh=true")
    assert result.returncode == 0, result.stderr
    assert backup.record(edited.doc_id)["title"] == "edited title"
    assert report["counts"]["updated"] == 1
    assert [d["id"] for d in report["deleted"]] == [deleted.doc_id]
    assert (backup.out / f"ipernity-{deleted.doc_id}.bin").exists()  # backups are never deleted
    assert backup.sb.calls["doc.get"] == 1


def test_quota_stop_then_rerun_completes_without_double_downloads(backup):
    backup.sb.knobs.quota_after = 60
    result, report = backup()
    assert result.returncode == 4
    assert "quota" in result.stderr
    match = re.search(r"(\d+) documents remain", result.stderr)
    assert match and int(match.group(1)) == len(backup.sb.account.docs) - len(backup.stored_ids())
    assert "rerun" in result.stderr and "Traceback" not in result.stderr
    backup.sb.knobs.quota_after = None
    result, _ = backup()
    assert result.returncode == 0, result.stderr
    backup.assert_complete()
    assert max(backup.sb.downloads.values()) == 1


def test_limit_then_plain_rerun_completes(backup):
    result, report = backup("--limit", "20")
    assert result.returncode == 0 and report["counts"]["new"] == 20
    assert len(backup.stored_ids()) == 20
    result, report = backup()
    assert result.returncode == 0, result.stderr
    backup.assert_complete()
    assert max(backup.sb.downloads.values()) == 1


def test_startdoc_numdocs_then_rerun_completes(backup):
    result, report = backup("-o", "ipernity.startdoc=11", "-o", "ipernity.numdocs=5")
    assert result.returncode == 0
    positions = sorted(backup.record(i)["position"] for i in backup.stored_ids())
    assert positions == [11, 12, 13, 14, 15]
    result, _ = backup()
    assert result.returncode == 0
    backup.assert_complete()


def test_numdocs_alone_takes_the_next_documents_not_migrated_yet(backup):
    """flip's -numdocs without -startdoc: the next N after what is already downloaded, oldest first;
    run after run the whole account comes, each document downloaded once."""
    result, report = backup("-o", "ipernity.numdocs=5")
    assert result.returncode == 0, result.stderr
    assert sorted(backup.record(i)["position"] for i in backup.stored_ids()) == [1, 2, 3, 4, 5]
    backup.sb.reset_counters()
    result, report = backup("-o", "ipernity.numdocs=5")
    assert result.returncode == 0, result.stderr
    assert sorted(backup.record(i)["position"] for i in backup.stored_ids()) == list(range(1, 11))
    assert report["counts"]["new"] == 5 and backup.sb.calls["doc.get"] == 5
    result, _ = backup()
    assert result.returncode == 0, result.stderr
    backup.assert_complete()
    assert max(backup.sb.downloads.values()) == 1


def test_startdoc_past_the_last_document_is_refused_naming_the_option(backup):
    total = len(backup.sb.account.docs)
    result, report = backup("-o", f"ipernity.startdoc={total + 1}")
    assert result.returncode == 2, result.stderr
    assert f"ipernity.startdoc={total + 1} is past the last document: the account has {total}" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert backup.stored_ids() == set()
    result, _ = backup("-o", f"ipernity.startdoc={total}")  # the last one is still a valid start
    assert result.returncode == 0 and [backup.record(i)["position"] for i in backup.stored_ids()] == [total]


def test_faults_and_truncated_downloads_still_give_a_complete_backup(backup):
    backup.sb.knobs.fault_rate = 0.1
    backup.sb.knobs.truncate_rate = 0.1
    result, report = backup("--jobs", "4")
    assert result.returncode == 0, result.stderr
    backup.assert_complete()


def test_failed_document_does_not_advance_the_bookmark(backup, home):
    victim = backup.sb.account.docs[10].doc_id
    result, _ = backup("-o", f"folder.fail_ids={victim}")
    assert result.returncode == 1 and f"ipernity:{victim}" in result.stderr
    assert victim not in backup.stored_ids()
    result, report = backup()
    assert result.returncode == 0
    assert victim in backup.stored_ids() and report["counts"]["new"] == 1


def test_missing_token_needs_authorization(cli, fresh_sandbox, home):
    result = cli("run", "ipernity", "folder", *fresh_sandbox.app_options(), "-o", f"folder.path={home}/o",
                 env={"MIGRATOR_LOAD_PLUGINS": "memtest,ipernity"})
    assert result.returncode == 3
    assert "migrator auth ipernity" in result.stderr
    result = cli("run", "ipernity", "folder", *fresh_sandbox.cli_options("123-bogus"), "-o",
                 f"folder.path={home}/o", env={"MIGRATOR_LOAD_PLUGINS": "memtest,ipernity"})
    assert result.returncode == 3 and "migrator auth ipernity" in result.stderr
    assert "Traceback" not in result.stderr


def test_secrets_never_printed(backup):
    backup.sb.knobs.quota_after = 20
    result, report = backup("-v")
    text = result.stdout + result.stderr + json.dumps(report)
    for secret in (backup.sb.api_secret, backup.token):
        assert secret not in text


def test_auth_flow_through_stdin(cli, fresh_sandbox, home, plugin_site):
    sb = fresh_sandbox
    proc, url = cli.start("auth", "ipernity", *sb.app_options(), wait_for="frob=",
                          env={"MIGRATOR_LOAD_PLUGINS": "ipernity"})
    frob = query_value(url, "frob")
    assert "perm_doc=read" in url
    import requests

    approve = requests.post(sb.auth_url, data=dict(re.findall(r"([a-z_]+)=([^&\s]+)", url.split("?", 1)[1])),
                            timeout=10)
    assert approve.status_code == 200
    out, err = proc.communicate("\n", timeout=60)
    assert proc.returncode == 0, err
    token_file = token_path("ipernity", Path(os.environ["MIGRATOR_CONFIG_DIR"]), endpoint=sb.api_url,
                            key=sb.api_key)  # a test server's token never takes the real one's place
    assert not (token_file.parent / "ipernity.json").exists()
    assert token_file.stat().st_mode & 0o777 == 0o600
    token = json.loads(token_file.read_text())["token"]
    assert token and token not in out + err and frob
    result = cli("run", "ipernity", "folder", *sb.app_options(), "-o", f"folder.path={home}/o", "--limit", "2",
                 env={"MIGRATOR_LOAD_PLUGINS": "memtest,ipernity"})
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("knob,value", [("numeric_scalars", True), ("empty_object_style", "[]"),
                                        ("empty_object_style", '""'), ("code_as_number", True)])
def test_quirk_variants_give_the_same_records(backup, knob, value):
    setattr(backup.sb.knobs, knob, value)
    result, _ = backup("--jobs", "2")
    assert result.returncode == 0, result.stderr
    backup.assert_complete()


def test_quirk_helpers():
    assert as_int("12") == 12 and as_int(12) == 12 and as_int("") is None and as_int([]) is None
    assert obj([]) == {} and obj("") == {} and obj({"a": 1}) == {"a": 1}
    assert items_of({"doc": {"doc_id": "1"}}, "doc") == [{"doc_id": "1"}]
    assert items_of({"total": "0"}, "doc") == []
    assert taken("0000-00-00 00:00:00") == (None, None)
    assert taken("2008-01-03 11:22:00") == ("2008-01-03T11:22:00", "second")
    assert taken("2008-00-00 00:00:00") == ("2008-01-01T00:00:00", "year")
    assert taken("2008-05-00 00:00:00") == ("2008-05-01T00:00:00", "month")
    assert geo({"lat": "48.85", "lng": 2.35}).latitude == 48.85 and geo([]) is None and geo("") is None


@pytest.mark.parametrize("answer", [b'{"doc": "garbage", "api": {"status": "ok"}}', b'not json at all',
                                    b'{"api": {"status": "ok"}}'])
def test_malformed_document_fails_alone(backup, answer):
    victim = backup.sb.account.docs[5].doc_id
    dispatch = backup.sb.dispatch

    def corrupt(http_method, method, fmt, params):
        if method == "doc.get" and params.get("doc_id") == victim:
            return 200, answer
        return dispatch(http_method, method, fmt, params)

    backup.sb.dispatch = corrupt
    result, report = backup()
    assert result.returncode == 1
    assert f"ipernity:{victim}" in result.stderr and "Traceback" not in result.stderr
    assert report["counts"]["new"] == len(backup.sb.account.docs) - 1
    assert [f["id"] for f in report["failed"]] == [victim]


def test_unsigned_or_badly_signed_request_is_rejected(fresh_sandbox):
    import requests

    sb = fresh_sandbox
    token = sb.grant_token(perm_doc="read")
    params = {"api_key": sb.api_key, "auth_token": token}
    unsigned = requests.post(sb.api_url + "auth.checkToken", data=params, timeout=10).json()
    assert unsigned["api"]["status"] == "error" and str(unsigned["api"]["code"]) == "104"
    params["api_sig"] = "0" * 32
    wrong = requests.post(sb.api_url + "auth.checkToken", data=params, timeout=10).json()
    assert str(wrong["api"]["code"]) == "105"


def test_state_records_per_account(backup):
    assert backup()[0].returncode == 0
    with sqlite3.connect(backup.state) as db:
        rows = db.execute("SELECT DISTINCT source, sink, account FROM records WHERE kind='document'").fetchall()
    assert rows == [("ipernity", "folder", str(backup.out.resolve()))]


def test_round_trip_of_records(backup):
    assert backup()[0].returncode == 0
    for doc in backup.sb.account.docs[:20]:
        record = backup.record(doc.doc_id)
        assert Document.from_json(record).to_json() == record


@pytest.mark.parametrize("quota_after", [3, 10])
def test_quota_while_reading_albums_still_says_how_many_remain(backup, quota_after):
    """The albums are read alongside the listing pages: the quota ends one or the other (3: after the
    token check, the first page and the album list; 10: usually in the album reads), and either way the
    message counts every document as remaining."""
    backup.sb.knobs.quota_after = quota_after
    result, report = backup()
    assert result.returncode == 4 and "quota" in result.stderr
    assert f"{len(backup.sb.account.docs)} documents remain" in result.stderr
    backup.sb.knobs.quota_after = None
    result, _ = backup()
    assert result.returncode == 0, result.stderr
    backup.assert_complete()
