"""The local sink through the real CLI, fed by the core's `jsonfile` test source (documents of source `mem`)."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

from local_helpers import mem_doc, write_json

from migrator import Document
from migrator.records import dumps
from migrator.testing.cli import patched_cli


def record(raw: dict, position: int) -> Document:
    """The record the jsonfile source makes of one of its documents."""
    return Document.from_json({"schema": 1, "source": "mem", "position": position,
                               **{k: v for k, v in raw.items() if k != "content"}})


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if not p.is_dir() or p.is_symlink())


def dataset() -> dict:
    docs = [mem_doc("1", title="Sunset", tags=["sea", "ns:pred=value"], geo={"latitude": 48.85, "longitude": 2.35}),
            mem_doc("2", title="Beach", taken_at=None, taken_granularity=None, posted_at="2020-02-03T04:05:06Z"),
            mem_doc("3", title="Old", taken_at="1988-01-01T00:00:00", taken_granularity="year"),
            mem_doc("4", title="Loose", taken_at=None, taken_granularity=None, file={"ext": "png"})]
    containers = [{"kind": "album", "id": "a1", "title": "Holidays", "members": ["3", "1", "2"]},
                  {"kind": "album", "id": "a2", "title": "Holidays", "members": ["2"]},
                  {"kind": "album", "id": "empty", "title": "Empty", "members": []},
                  {"kind": "collection", "id": "c1", "title": "Travels", "members": ["c2", "a1"],
                   "member_kind": "container"},
                  {"kind": "collection", "id": "c2", "title": "Far", "members": ["a2", "empty"],
                   "member_kind": "container", "parent": "c1"}]
    return {"documents": docs, "containers": containers}


def test_backup_layout_sidecars_dates_and_albums(cli, home):
    data = write_json(home / "docs.json", dataset())
    out = home / "out"
    result = cli.backup(data, out)
    assert result.returncode == 0, result.stderr
    assert cli.report()["counts"]["new"] == 4
    mem = out / "mem"
    photo = mem / "2019" / "2019-05-01 Sunset [1].jpg"
    assert photo.read_bytes() == ("bytes of 1 " * 50).encode()
    raw = json.loads(data.read_text())["documents"]
    for position, (stem, ext) in enumerate([("2019/2019-05-01 Sunset [1]", "jpg"), ("2020/2020-02-03 Beach [2]", "jpg"),
                                            ("1988/1988 Old [3]", "jpg"), ("undated/Loose [4]", "png")], 1):
        sidecar = (mem / f"{stem}.json").read_text("utf-8")
        assert sidecar == dumps(record(raw[position - 1], position))
        assert Document.from_json(json.loads(sidecar)) == record(raw[position - 1], position)
        assert (mem / f"{stem}.{ext}").exists() and (mem / f"{stem}.{ext}.xmp").exists()
    assert photo.stat().st_mtime == time.mktime(time.strptime("2019-05-01T10:20:30", "%Y-%m-%dT%H:%M:%S"))
    beach = mem / "2020" / "2020-02-03 Beach [2].jpg"
    assert beach.stat().st_mtime == 1580702706  # posted_at, UTC

    album = mem / "Albums" / "Holidays [a1]"
    links = sorted(p.name for p in album.iterdir() if p.is_symlink())
    assert links == ["001 1988 Old [3].jpg", "002 2019-05-01 Sunset [1].jpg", "003 2020-02-03 Beach [2].jpg"]
    assert os.readlink(album / links[1]) == "../../2019/2019-05-01 Sunset [1].jpg"
    assert (album / links[1]).read_bytes() == photo.read_bytes()
    sidecar = json.loads((album / "album.json").read_text())
    assert sidecar["ids"] == ["3", "1", "2"] and sidecar["container"]["title"] == "Holidays"
    assert (mem / "Albums" / "Holidays [a2]").is_dir()  # equal titles, two folders
    assert [p.name for p in (mem / "Albums" / "Empty [empty]").iterdir()] == ["album.json"]
    assert [p.name for p in (mem / "Not in any album").iterdir()] == ["Loose [4].png"]
    travels = mem / "Collections" / "Travels [c1]"
    assert (travels / "002 Holidays [a1]").is_symlink()
    assert (travels / "001 Far [c2]" / "001 Holidays [a2]" / "001 2020-02-03 Beach [2].jpg").read_bytes()
    assert (travels / "001 Far [c2]" / "002 Empty [empty]" / "album.json").exists()


def test_hostile_names_never_leave_the_folder(cli, home):
    evil = ["../../x", "/etc/passwd", "..", "CON", "a" * 300 + "\u00e9" * 100, "Cafe\u0301\x00\n\u202e"]
    docs = [mem_doc(str(i), title=t, file={"ext": "/../../sh" if i % 2 else "..\\..\\bat"})
            for i, t in enumerate(evil, 1)]
    docs.append(mem_doc("../../id", title="evil id"))
    containers = [{"kind": "album", "id": "../../album", "title": "../../../../tmp/owned",
                   "members": [d["id"] for d in docs]},
                  {"kind": "../../kind", "id": "x", "title": "/", "members": ["1"]}]
    data = write_json(home / "docs.json", {"documents": docs, "containers": containers})
    out = home / "inside" / "out"
    result = cli.backup(data, out)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (home / "inside").iterdir()) == ["out"]
    for path in files_under(out):
        assert len(path.name.encode("utf-8")) <= 255
        assert os.path.realpath(path).startswith(str(out.resolve()) + os.sep)
        assert path.name == __import__("unicodedata").normalize("NFC", path.name)
    album = next((out / "mem" / "Albums").iterdir())
    assert len([p for p in album.iterdir() if p.is_symlink()]) == len(docs)
    assert not (home / "x").exists() and not Path("/tmp/owned").exists()


def test_a_planted_symlink_is_never_written_through(cli, home):
    elsewhere = home / "elsewhere"
    elsewhere.mkdir()
    out = home / "out"
    out.mkdir()
    (out / "mem").symlink_to(elsewhere)
    data = write_json(home / "docs.json", {"documents": [mem_doc("1")], "containers": []})
    result = cli.backup(data, out)
    assert result.returncode == 1
    assert "symlink" in result.stderr
    assert list(elsewhere.iterdir()) == []

    # a symlink planted at a final file name is replaced, its target untouched
    (out / "mem").unlink()
    (out / "mem" / "2019").mkdir(parents=True)
    victim = elsewhere / "victim.txt"
    victim.write_text("keep me")
    (out / "mem" / "2019" / "2019-05-01 Photo 1 [1].json").symlink_to(victim)
    (out / "mem" / "2019" / "2019-05-01 Photo 1 [1].jpg").symlink_to(victim)
    assert cli.backup(data, out).returncode == 0
    assert victim.read_text() == "keep me"
    assert not (out / "mem" / "2019" / "2019-05-01 Photo 1 [1].json").is_symlink()
    assert (out / "mem" / "2019" / "2019-05-01 Photo 1 [1].jpg").read_bytes() == ("bytes of 1 " * 50).encode()


def test_reruns_metadata_changes_and_new_originals(cli, home):
    docs = [mem_doc("1", title="Sunset"), mem_doc("2", title="Other")]
    albums = [{"kind": "album", "id": "a1", "title": "Best", "members": ["1", "2"]}]
    data = write_json(home / "docs.json", {"documents": docs, "containers": albums})
    out = home / "out"
    assert cli.backup(data, out).returncode == 0
    photo = out / "mem" / "2019" / "2019-05-01 Sunset [1].jpg"
    before = photo.stat()

    assert cli.backup(data, out).returncode == 0
    assert cli.report()["counts"]["unchanged"] == 2 and cli.report()["bytes"] == 0

    docs[0].update(title="Sunset, renamed", description="now described", updated_at="2021-01-01T00:00:00Z")
    albums[0]["title"] = "Best ever"
    write_json(data, {"documents": docs, "containers": albums})
    assert cli.backup(data, out).returncode == 0
    assert cli.report()["counts"]["updated"] == 1 and cli.report()["bytes"] == 0
    after = photo.stat()
    assert (after.st_ino, after.st_mtime_ns, after.st_size) == (before.st_ino, before.st_mtime_ns, before.st_size)
    sidecar = json.loads(photo.with_suffix(".json").read_text())
    assert sidecar["title"] == "Sunset, renamed"
    assert "now described" in photo.with_name(photo.name + ".xmp").read_text()
    assert not (out / "mem" / "Albums" / "Best [a1]").exists()
    assert (out / "mem" / "Albums" / "Best ever [a1]" / "001 2019-05-01 Sunset [1].jpg").is_symlink()

    docs[0].update(content="a brand new original", updated_at="2022-01-01T00:00:00Z")
    write_json(data, {"documents": docs, "containers": albums})
    assert cli.backup(data, out).returncode == 0
    assert photo.read_bytes() == b"a brand new original"
    kept = [p for p in photo.parent.iterdir() if p.name.startswith("2019-05-01 Sunset [1].2")]
    kept = [p for p in kept if p.suffix == ".jpg"]
    assert len(kept) == 1 and "now described" in kept[0].with_name(kept[0].name + ".xmp").read_text()
    assert kept[0].read_bytes() == ("bytes of 1 " * 50).encode()
    assert any("previous one is kept" in w["warning"] for w in cli.report()["warnings"])


def test_lost_state_reuses_the_files_without_reading_the_source(cli, home):
    docs = [mem_doc(str(i)) for i in range(1, 6)]
    data = write_json(home / "docs.json", {"documents": docs, "containers": []})
    out = home / "out"
    assert cli.backup(data, out, "--jobs", "4").returncode == 0
    inodes = {p: p.stat().st_ino for p in (out / "mem" / "2019").iterdir()}
    (home / "state.sqlite3").unlink()
    assert cli.backup(data, out).returncode == 0
    assert cli.report()["bytes"] == 0 and cli.report()["counts"]["unchanged"] == 5
    (home / "state.sqlite3").unlink()
    shutil.rmtree(out / ".migrator")  # the index and the viewer's cache too: the sidecars alone describe the folder
    assert cli.backup(data, out).returncode == 0
    assert cli.report()["bytes"] == 0 and cli.report()["counts"]["unchanged"] == 5
    assert {p: p.stat().st_ino for p in (out / "mem" / "2019").iterdir()} == inodes


KILLER = patched_cli("""
import os, sys
import migrator_local.fsops as fsops

def die(part, final):
    if final.name.endswith("[2].jpg"):
        os._exit(9)

fsops.before_rename = die
""")


def test_a_kill_before_rename_leaves_no_truncated_original(cli, home):
    docs = [mem_doc("1"), mem_doc("2"), mem_doc("3")]
    data = write_json(home / "docs.json", {"documents": docs, "containers": []})
    out = home / "out"
    script = home / "killer.py"
    script.write_text(KILLER)
    result = cli.backup(data, out, script=script)
    assert result.returncode == 9
    folder = out / "mem" / "2019"
    assert not (folder / "2019-05-01 Photo 2 [2].jpg").exists()
    assert (folder / "2019-05-01 Photo 2 [2].jpg.part").exists()  # the bytes never got the final name
    for path in folder.iterdir():
        if not path.name.endswith(".part"):
            assert path.stat().st_size > 0

    assert cli.backup(data, out).returncode == 0
    assert not list(out.rglob("*.part"))
    assert (folder / "2019-05-01 Photo 2 [2].jpg").read_bytes() == ("bytes of 2 " * 50).encode()


def test_a_planted_corrupt_part_is_cleaned_and_never_used(cli, home):
    data = write_json(home / "docs.json", {"documents": [mem_doc("1")], "containers": []})
    out = home / "out"
    folder = out / "mem" / "2019"
    folder.mkdir(parents=True)
    (folder / "2019-05-01 Photo 1 [1].jpg.part").write_bytes(b"garbage")
    (folder / "2019-05-01 Photo 1 [1].json.part").write_bytes(b"{")
    (folder / "2019-05-01 Photo 0 [0].jpg.xmp.part").write_bytes(b"<")
    (out / "yt-dlp video [xyz].mp4.part").write_bytes(b"another tool's partial download")
    assert cli.backup(data, out).returncode == 0
    assert (folder / "2019-05-01 Photo 1 [1].jpg").read_bytes() == ("bytes of 1 " * 50).encode()
    assert sorted(p.name for p in out.rglob("*.part")) == ["2019-05-01 Photo 0 [0].jpg.xmp.part",
                                                           "yt-dlp video [xyz].mp4.part"]
    assert cli.backup(data, out).returncode == 0  # now the folder is known to be ours: cleaned
    assert [p.name for p in out.rglob("*.part")] == ["yt-dlp video [xyz].mp4.part"]


def test_dry_run_and_sandbox(cli, home):
    data = write_json(home / "docs.json", {"documents": [mem_doc("1")], "containers": []})
    result = cli.backup(data, home / "out", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert not (home / "out").exists()
    result = cli("run", "jsonfile", "local", "--sandbox", "-o", f"jsonfile.file={data}",
                 env={"TMPDIR": str(home)})  # the core's sandbox folder lands in tmp_path
    assert result.returncode == 0, result.stderr
    where = Path(result.stdout.split("results in ")[1].split(" (state")[0])
    assert where.name == "backup" and (where / "mem" / "2019" / "2019-05-01 Photo 1 [1].jpg").exists()
