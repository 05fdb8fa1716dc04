"""flip's backup folders for tests: records as flip's Go code writes them, beside their originals."""

from __future__ import annotations

import json
from pathlib import Path


def go_json(data: dict) -> str:
    """flip's Go json.Marshal: compact, with <, > and & escaped."""
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def flip_doc(doc_id: str, content: bytes, **fields: object) -> dict:
    return {"docid": doc_id, "originalurl": f"http://u.example/{doc_id}", "originalsize": len(content),
            "ext": "jpg", "media": "photo", "title": f"Doc {doc_id}", "description": "", "date": "2009-07-14 21:30:00",
            "albums": None, "family": False, "friends": False, "public": True, **fields}


def make_flip(root: Path, docs: list[tuple[dict, bytes]]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "ipernity_last_doc").write_text("3")
    for raw, content in docs:
        (root / f"{raw['docid']}.json").write_text(go_json(raw), "utf-8")
        (root / f"{raw['docid']}.{raw['ext']}").write_bytes(content)
    return root


FLIP = [(flip_doc("101", b"eiffel bytes", title="Tour <Eiffel> & co", description="<b>nice</b>",
                  albums=["Paris", "Best"], family=True, friends=True), b"eiffel bytes"),
        (flip_doc("102", b"undated", date="0000-00-00 00:00:00", public=False), b"undated"),
        (flip_doc("103", b"a movie", ext="mov", media="video", date="2010-05-00 00:00:00", albums=["Paris"]),
         b"a movie")]


