"""ipernity sandbox → local backup + Flickr sandbox through the real CLI: a rotated photo arrives rotated
everywhere, exactly once even when Flickr's answer to a rotation is lost, and `--dry-run` prints each sink's
loss ledger without sending anything."""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from migrator_ipernity.sandbox import IpernitySandbox
from migrator_local import xmp

sys.path.insert(0, str(Path(__file__).parent))  # tests/ is no package: for the helpers beside this file
from flickr_replay import photos_by_origin  # noqa: E402
from kill_helpers import empty_flickr  # noqa: E402

ENV = {"MIGRATOR_LOAD_PLUGINS": "ipernity,local,flickr"}
ORIENTATION = {0: None, 90: "6", 180: "3", 270: "8"}
ROTATE = "flickr.photos.transform.rotate"


@pytest.fixture
def ipernity():
    with IpernitySandbox(seed=0) as sb:
        yield sb


@pytest.fixture
def flickr():
    with empty_flickr() as sb:
        yield sb


class Run:
    def __init__(self, cli, ipernity, flickr, home: Path) -> None:
        self.cli, self.ip, self.fl, self.home = cli, ipernity, flickr, home
        self.token = ipernity.grant_token(perm_doc="read")
        self.out = home / "out"
        self.runs = 0

    def __call__(self, *extra: str):
        self.runs += 1
        report = self.home / f"report{self.runs}.json"
        result = self.cli("run", "ipernity", "local", "flickr", *self.ip.cli_options(self.token),
                          "-o", f"local.path={self.out}", *self.fl.cli_options(rate=0),
                          "--state", str(self.home / "state.sqlite3"), "--report", str(report), *extra, env=ENV)
        return result, (json.loads(report.read_text()) if report.exists() else {})

    def photos(self) -> dict[str, dict]:
        found = photos_by_origin(self.fl.state())
        assert all(len(v) == 1 for v in found.values()), "a document was uploaded twice"
        return {doc_id: v[0] for doc_id, v in found.items()}

    def backup_files(self, doc_id: str) -> tuple[dict, ET.Element]:
        sidecar = next((self.out / "ipernity").glob(f"*/*[[]{doc_id}].json"))
        record = json.loads(sidecar.read_text("utf-8"))
        packet = next(sidecar.parent.glob(f"*[[]{doc_id}].*.xmp")).read_text("utf-8")
        desc = ET.fromstring(packet.split("?>", 1)[1].rsplit("<?xpacket", 1)[0]).find("rdf:RDF/rdf:Description",
                                                                                        xmp.NS)
        return record, desc

    def assert_rotations(self) -> None:
        """Every photo's rotation as ipernity says: in the sidecar, the XMP and on Flickr."""
        photos = self.photos()
        for doc in (d for d in self.ip.account.docs if d.media == "photo"):
            record, desc = self.backup_files(doc.doc_id)
            assert record["rotation"] == doc.rotation
            node = desc.find("tiff:Orientation", xmp.NS)
            assert (node.text if node is not None else None) == ORIENTATION[doc.rotation], doc.doc_id
            assert photos[doc.doc_id]["rotation"] == doc.rotation, doc.doc_id


@pytest.fixture
def run(cli, ipernity, flickr, home) -> Run:
    return Run(cli, ipernity, flickr, home)


def rotated(ipernity) -> list:
    return [d for d in ipernity.account.docs if d.media == "photo" and d.rotation]


def test_rotated_photos_arrive_rotated_in_the_backup_and_on_flickr(run):
    assert len(rotated(run.ip)) >= 3 and {d.rotation for d in rotated(run.ip)} == {90, 180, 270}
    result, _ = run()
    assert result.returncode == 0, result.stderr
    run.assert_rotations()
    assert run.fl.calls[ROTATE] == len(rotated(run.ip))  # one turn per rotated photo, none for upright ones

    run.fl.reset_counters()
    assert run()[0].returncode == 0
    assert run.fl.calls[ROTATE] == 0  # nothing changed: no turn again

    # the rotation changes at ipernity: the photo is turned to it (once), the backup follows
    doc = rotated(run.ip)[0]
    upright = next(d for d in run.ip.account.docs if d.media == "photo" and not d.rotation)
    run.ip.edit_doc(doc.doc_id, rotation=(doc.rotation + 90) % 360)
    run.ip.edit_doc(upright.doc_id, rotation=270)
    result, report = run("-o", "ipernity.refresh=true")
    assert result.returncode == 0, result.stderr
    assert run.fl.calls[ROTATE] == 2 and run.fl.calls["upload"] == 0
    run.assert_rotations()


@pytest.mark.parametrize("how", ["500", "reset"])
def test_a_lost_rotate_answer_does_not_turn_the_photo_twice(run, how):
    run.fl.knobs.lose_answer(ROTATE, n=2, how=how)  # Flickr turned the photo; migrator never heard
    result, _ = run()
    assert run.fl.lost_answers[:2] == [(ROTATE, how)] * 2 and run.fl.knobs.pending_losses == 0
    if result.returncode != 0:  # the document failed for this run: the rerun finishes it
        result, _ = run()
    assert result.returncode == 0, result.stderr
    run.assert_rotations()

    # an update of a photo already on Flickr: the state knows its old rotation, the note says to look first
    doc = rotated(run.ip)[0]
    run.ip.edit_doc(doc.doc_id, rotation=(doc.rotation + 180) % 360)
    run.fl.knobs.lose_answer(ROTATE, n=1, how=how)
    result, _ = run("-o", "ipernity.refresh=true")
    assert run.fl.lost_answers[2:] == [(ROTATE, how)]
    if result.returncode != 0:
        result, _ = run("-o", "ipernity.refresh=true")
    assert result.returncode == 0, result.stderr
    run.assert_rotations()


def test_dry_run_prints_the_loss_ledger_and_sends_nothing(run):
    result, report = run("--dry-run")
    assert result.returncode == 0, result.stderr
    assert run.fl.calls["upload"] == 0 and not run.fl.state()["photos"] and not run.out.exists()
    writes = [m for m in run.fl.calls if m.startswith(("flickr.photos.set", "flickr.photosets.create", ROTATE))]
    assert writes == [] or all(run.fl.calls[m] == 0 for m in writes)

    losses = report["losses"]
    assert losses["local"] == []
    media = {d.doc_id: d.media for d in run.ip.account.docs}
    skipped = {line["reason"]: line for line in losses["flickr"] if line["field"] is None and
               line["kind"] == "document"}
    for kind in ("audio", "other"):
        line = skipped[f"Flickr takes only photos and videos, not {kind}"]
        assert line["count"] == sum(1 for m in media.values() if m == kind)
        assert all(media[key.split(":")[1]] == kind for key in line["examples"])
    fields = {line["field"] for line in losses["flickr"] if line["field"]}
    assert {"comments", "license"} <= fields  # comments are not their authors'; copyleft has no Flickr code
    assert "loss ledger" in result.stdout and "local: nothing" in result.stdout
    assert "flickr: skips" in result.stdout and "not audio" in result.stdout


def test_a_dry_run_of_local_only_loses_nothing(run, cli, home):
    result = cli("run", "ipernity", "local", *run.ip.cli_options(run.token), "-o", f"local.path={run.out}",
                 "--dry-run", "--report", str(home / "r.json"), env=ENV)
    assert result.returncode == 0, result.stderr
    assert json.loads((home / "r.json").read_text())["losses"] == {"local": []}
    assert "local: nothing" in result.stdout and not run.out.exists()
