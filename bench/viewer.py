"""Scenario 5 `viewer`: the local sink's offline viewer of a large backup (see bench/README.md).

A synthetic backup (sidecars, 300-byte stub originals, albums, and the index the sink would have) is
written without the sink; then the viewer is built in a measured process (`python bench/viewer.py BACKUP`,
the sink's own `Viewer.update()`), then updated with no change, then after one document changed. Stub
originals are not images: the build makes no thumbnail, whose cost is measured apart on real JPEGs.
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from migrator import Container, Document
from migrator.records import FileInfo, dumps

ALBUM_SIZE = 100
WORDS = "old chapel river market street harbour kitchen station bridge garden snow summer winter".split()


def synthetic_backup(root: Path, n_docs: int, seed: int = 0) -> None:
    """`n_docs` documents over 20 years (1% undated), one album per ALBUM_SIZE documents, and the index."""
    from migrator_local import layout
    from migrator_local.albums import digest, sidecar_json
    from migrator_local.fsops import Tree, Writer
    from migrator_local.index import Index

    rng = random.Random(seed)
    ids: list[str] = []
    for n in range(n_docs):
        doc_id = str(1_000_000 + n)
        when = None if rng.random() < 0.01 else time.strftime(
            "%Y-%m-%dT%H:%M:%S", time.gmtime(1_072_915_200 + rng.randrange(20 * 365 * 86400)))
        doc = Document(source="ipernity", id=doc_id, title=f"{rng.choice(WORDS).title()} {rng.choice(WORDS)} {n}",
                       description=f"<b>{rng.choice(WORDS)}</b> by the {rng.choice(WORDS)}", tags=rng.sample(WORDS, 3),
                       taken_at=when, taken_granularity="second" if when else None, posted_at=None,
                       license="CC-BY-2.0", file=FileInfo(name=f"IMG_{n}.JPG", ext="jpg", size=300))
        folder = root / "ipernity" / layout.bucket(doc)
        folder.mkdir(parents=True, exist_ok=True)
        stem = layout.doc_stem(doc)
        (folder / f"{stem}.json").write_text(dumps(doc), "utf-8")
        (folder / f"{stem}.jpg").write_bytes(b"stub " * 60)  # 300 bytes
        ids.append(doc_id)
    tree, writer = Tree(root), Writer()
    tree.folder(".migrator")
    index = Index(tree, writer)
    index.open()  # no index yet: it is built from the sidecars, as the sink does
    for a in range(0, n_docs, ALBUM_SIZE):
        members = ids[a:a + ALBUM_SIZE]
        container = Container(kind="album", source="ipernity", id=str(a), title=f"Album {a}", members=members,
                              position=a // ALBUM_SIZE)
        folder = tree.folder("ipernity", "Albums", layout.container_dir(container))
        (folder / "album.json").write_bytes(sidecar_json(container, []))
        index.put_container("ipernity", "album", container.id, tree.rel(folder), members, digest=digest(container),
                            built=index.seq, links=len(members), missing=[])
    index.close()


def build(root: Path, touch: str | None = None) -> dict[str, Any]:
    """What the sink's finish() does for the viewer, alone: open the index, update, close."""
    from migrator_local.fsops import Tree, Writer
    from migrator_local.index import Index
    from migrator_local.viewer import Viewer

    tree = Tree(root)
    index = Index(tree, Writer())
    index.open()
    viewer = Viewer(tree, index)
    if touch:
        viewer.touched("ipernity", touch)
    outcome = viewer.update()
    index.close()
    return {"documents": outcome.documents, "files": outcome.files, "full": outcome.full}


def rename_one(root: Path, doc_id: str) -> None:
    """A title changed in one sidecar, as a rerun that found it changed would write it."""
    path = next(root.glob(f"ipernity/*/*[[]{doc_id}].json"))
    data = json.loads(path.read_text("utf-8"))
    data["title"] += " (renamed)"
    path.write_text(json.dumps(data), "utf-8")


def first_page_bytes(root: Path) -> tuple[int, int]:
    """(bytes the index page loads before it shows its first 60 documents, bytes of all data shards)."""
    data = root / ".migrator" / "viewer" / "data"
    manifest = data / "manifest.js"
    text = manifest.read_text("ascii")
    months = json.loads(text[text.index(", ") + 2:-3])["months"]
    loaded, shown = manifest.stat().st_size, 0
    for month in months:
        for n in range(month["parts"]):
            if shown >= 60:
                break
            loaded += (data / f"m-{month['key']}-{n}.js").stat().st_size
            shown += min(month["count"] - n * 500, 500)
    return loaded, sum(p.stat().st_size for p in data.iterdir())


def thumbnail_ms(count: int = 20) -> float:
    """Milliseconds per thumbnail of a real 12-megapixel JPEG (the build's cost per photo on a first run)."""
    from migrator_local.viewer import thumbs
    from PIL import Image

    with tempfile.TemporaryDirectory() as tmp:
        photo = Path(tmp) / "photo.jpg"
        scene = Image.linear_gradient("L").resize((4000, 3000)).convert("RGB")
        noise = Image.effect_noise((4000, 3000), 12).convert("RGB")
        Image.blend(scene, noise, 0.15).save(photo, "JPEG", quality=90)  # about 2 MB, like a phone's photo
        began = time.perf_counter()
        for n in range(count):
            assert thumbs.make(photo, [(Path(tmp) / f"t{n}.jpg", thumbs.THUMB)])
        return (time.perf_counter() - began) / count * 1000


if __name__ == "__main__":
    print(json.dumps(build(Path(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else None)))


def scenario(sizes: list[int]) -> dict[str, Any]:
    """Rows for bench/run.py: build, no-change update and one-change update at each size."""
    from measure import fresh_dir, log, measure
    from scenarios import row

    rows: list[dict[str, Any]] = []
    raw: dict[str, Any] = {}
    s = "5 viewer"
    for n in sizes:
        with fresh_dir(f"viewer-{n}") as home:
            backup = home / "backup"
            log(f"viewer: writing a synthetic backup of {n} documents")
            synthetic_backup(backup, n)
            runs = {}
            for name, touch in (("build", None), ("unchanged", None), ("one-change", "1000007")):
                if touch:
                    rename_one(backup, touch)
                argv = [sys.executable, str(Path(__file__)), str(backup), *([touch] if touch else [])]
                m, stderr = measure(home, name, argv)
                if m["rc"] != 0:
                    raise SystemExit(f"viewer {name}: exit code {m['rc']}\n{stderr}")
                m["outcome"] = json.loads((home / f"{name}.stdout").read_text().strip().splitlines()[-1])
                runs[name] = m
                log(f"  {n} {name}: {m['wall']:.1f} s, CPU {m['cpu']:.1f} s, {m['maxrss_kb'] / 1024:.0f} MB, "
                    f"{m['outcome']}")
            first, total = first_page_bytes(backup)
        label = f"{n:,}"
        build_target = 60.0 if n >= 100_000 else None
        rows += [
            row(s, f"{label}: first build", runs["build"]["wall"], "s", "< 60" if build_target else "",
                runs["build"]["wall"] < build_target if build_target else None,
                detail=f"CPU {runs['build']['cpu']:.1f} s, peak RSS {runs['build']['maxrss_kb'] / 1024:.0f} MB, "
                       f"{runs['build']['outcome']['files']} files"),
            row(s, f"{label}: no-change update", runs["unchanged"]["wall"], "s", "0 files written",
                runs["unchanged"]["outcome"]["files"] == 0, detail=f"{runs['unchanged']['outcome']}"),
            row(s, f"{label}: one document changed", runs["one-change"]["wall"], "s", "<= 3 files written",
                runs["one-change"]["outcome"]["files"] <= 3, detail=f"{runs['one-change']['outcome']}"),
            row(s, f"{label}: index page's first load", first / 1024, "KiB",
                detail=f"of {total / 1048576:.0f} MiB of data shards"),
        ]
        raw[str(n)] = runs
    ms = thumbnail_ms()
    rows.append(row(s, "thumbnail of a 12-megapixel JPEG", ms, "ms",
                    detail=f"a first build adds this per photo: {ms * 100_000 / 60000:.0f} min for 100,000 "
                           "on one core"))
    return {"rows": rows, "params": {"sizes": sizes}, "raw": raw}
