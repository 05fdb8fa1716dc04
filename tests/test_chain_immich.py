"""The immich sink at the end of a chain: `migrator run ipernity local immich --sandbox`, checked field by field
against the ipernity sandbox's ground truth, the loss ledger of a dry run for the rest, and the sink's
errors as a user sees them (exit codes, messages)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections import Counter
from pathlib import Path

import pytest
from migrator_immich.sandbox import ImmichSandbox
from migrator_immich.sandboxed import SAVE_FILE
from migrator_ipernity.sandbox import IpernitySandbox, build_account
from migrator_ipernity.sandbox.truth import expected_document

from migrator.records import Document
from migrator.testing.cli import CliRunner

PLUGINS = "ipernity,local,immich"
MACHINE = re.compile(r"^([A-Za-z_]\w*):([A-Za-z_]\w*)=(.+)$")


@pytest.fixture
def cli(home: Path) -> CliRunner:
    return CliRunner(None, home, plugins=PLUGINS)


def sha1(data: bytes) -> str:
    return base64.b64encode(hashlib.sha1(data, usedforsecurity=False).digest()).decode()


def expected_tags(doc: Document) -> list[str]:
    """Immich tag paths, written out here apart from the sink's code: machine tags as ns/pred/value, a "/"
    in a plain tag as the division slash."""
    paths = []
    for tag in doc.tags:
        machine = MACHINE.match(tag.strip())
        path = "/".join(p.replace("/", "\u2215") for p in machine.groups()) if machine else \
            tag.strip().replace("/", "\u2215")
        if path and path not in paths:
            paths.append(path)
    return sorted(paths)


def expected_description(doc: Document) -> str:
    if not doc.title.strip() or doc.title == doc.description:
        return doc.description
    return f"{doc.title}\n\n{doc.description}" if doc.description else doc.title


def saved_immich(folder: Path) -> ImmichSandbox:
    """The emulator's saved world, read as the next `--sandbox` run would (not started)."""
    return ImmichSandbox(storage=folder / "files", save_file=folder / SAVE_FILE)


def test_ipernity_local_immich_sandbox_field_by_field(cli: CliRunner, home: Path) -> None:
    sandboxes = home / "sandboxes"
    run = ("run", "ipernity", "local", "immich", "--sandbox", "--sandbox-dir", str(sandboxes))
    result = cli(*run, "--report", str(home / "report.json"))
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((home / "report.json").read_text("utf-8"))
    account = IpernitySandbox(seed=0).account  # what `--sandbox` serves for ipernity
    immich = saved_immich(sandboxes / "immich-sink")
    state = immich.state()
    by_checksum: dict[str, list[dict]] = {}
    for asset in state["assets"]:
        by_checksum.setdefault(asset["checksum"], []).append(asset)
    media = [d for d in account.docs if d.media in ("photo", "video")]
    problems = []
    for doc in media:
        record = expected_document(account, doc)
        found = by_checksum.get(sha1(doc.original.content()), [])
        if len(found) != 1:
            problems.append(f"{doc.doc_id}: {len(found)} assets")
            continue
        asset = found[0]
        exif = asset["exif"]
        taken = f"{record.taken_at}+00:00" if record.taken_at else None
        geo = (record.geo.latitude, record.geo.longitude) if record.geo else (None, None)
        fields = {"description": (exif["description"], expected_description(record)),
                  "date taken": (exif["dateTimeOriginal"], taken),
                  "time zone": (exif["timeZone"], "UTC+00:00" if taken else None),
                  "geo": ((exif["latitude"], exif["longitude"]), geo),
                  "tags": (asset["tagValues"], expected_tags(record)),
                  "visibility": (asset["visibility"], "timeline" if record.visibility.public else "archive"),
                  "type": (asset["type"], "VIDEO" if doc.media == "video" else "IMAGE"),
                  "file type": (asset["originalFileName"].rsplit(".", 1)[-1].lower(), record.file.ext.lower()),
                  "bytes": (immich.read_original(asset["id"]), doc.original.content())}
        problems += [f"{doc.doc_id}: {name} is {have!r:.80}, expected {want!r:.80}"
                     for name, (have, want) in fields.items() if have != want]
        sidecar = immich.read_sidecar(asset["id"]) or b""
        if record.title and b"dc:title" not in sidecar:
            problems.append(f"{doc.doc_id}: no dc:title in the XMP sidecar")
    strays = len(state["assets"]) - len(media)
    assert not problems and not strays, f"{strays} stray assets; " + "\n".join(problems)
    # albums: each once, named, described, holding exactly its photos and videos (by content)
    checksum_of = {a["id"]: a["checksum"] for a in state["assets"]}
    have = Counter((a["albumName"], a["description"], frozenset(checksum_of[i] for i in a["assets"]))
                   for a in state["albums"])
    want = Counter((a.title or "Untitled", a.description,
                    frozenset(sha1(d.original.content()) for d in media if d.doc_id in a.doc_ids))
                   for a in account.albums)
    assert have == want
    skipped = {s["id"]: s["reason"] for s in report["skipped"] if s["sink"] == "immich"}
    assert skipped == {d.doc_id: f"Immich takes photos and videos, not {d.media}" for d in account.docs
                       if d.media not in ("photo", "video")}
    # a rerun finds everything and creates nothing; a dry run on a fresh state lists what Immich cannot hold
    assert cli(*run).returncode == 0
    again = saved_immich(sandboxes / "immich-sink").state()
    assert (len(again["assets"]), len(again["albums"])) == (len(state["assets"]), len(state["albums"]))
    result = cli("run", "ipernity", "immich", "--sandbox", "--sandbox-dir", str(sandboxes), "--dry-run",
                 "--state", str(home / "fresh.sqlite3"), "--report", str(home / "dry.json"))
    assert result.returncode == 0, result.stderr[-2000:]
    ledger = json.loads((home / "dry.json").read_text("utf-8"))["losses"]["immich"]
    fields = {line["field"] for line in ledger}
    assert {"title", "visibility", "taken_at", "license", "comments", "notes", "rotation", "members",
            "position"} <= fields
    assert any(line["field"] is None and "not audio" in line["reason"] for line in ledger)
    assert "Immich orders an album's photos by date only" in result.stdout + result.stderr


def test_errors_as_the_user_sees_them(cli: CliRunner, home: Path) -> None:
    with IpernitySandbox(account=build_account(1, n_docs=4)) as ip, ImmichSandbox() as im:
        base = ("run", "ipernity", "immich", *ip.cli_options(), *im.cli_options())
        refused = cli(*base, "-o", "immich.api_key=wrong-key-123456")
        assert refused.returncode == 3
        assert "Invalid API key" in refused.stderr and "MIGRATOR_IMMICH_API_KEY" in refused.stderr
        assert "wrong-key-123456" not in refused.stderr + refused.stdout
        im.version = "4.0.0"
        old = cli(*base)
        assert old.returncode == 2 and "Immich 4.0.0 is not supported" in old.stderr
        im.version = "3.1.0"
        im.knobs.max_body_bytes = 10
        big = cli(*base)
        assert big.returncode == 1 and "HTTP 413" in big.stdout + big.stderr
        im.knobs.max_body_bytes, im.knobs.quota_bytes = None, 1
        full = cli(*base)
        assert full.returncode == 4 and "quota" in (full.stdout + full.stderr).lower()
