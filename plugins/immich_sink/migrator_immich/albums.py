"""Albums into Immich exactly once: intent → look up → create, then members added (Immich answers per id).

Immich album names are not unique and an album cannot be found by a source id, so an album is found
again from what it holds: the remembered id (`album:<key>`) first; else (an answer lost, a state lost)
an album of the same name and description among those that hold one of its members' assets
(`GET /albums?assetId=`), whose assets are all members, not claimed by another source album; else an
empty one of that name and description (one created by a run killed before it added anything). Only
then is an album created, without members, its id remembered before anything is added.
"""

from __future__ import annotations

import threading
from typing import Any

from migrator import Context
from migrator.answers import as_int, as_str

from .client import ImmichClient

UNTITLED = "Untitled"


class Albums:
    def __init__(self, client: ImmichClient, context: Context) -> None:
        self.client, self.context = client, context
        self.lock = threading.Lock()

    def ensure(self, key: str, name: str, description: str, assets: list[str]) -> tuple[str, bool]:
        """The album's id, and whether it was created now."""
        with self.lock:
            known = self.context.memory_get(f"album:{key}")
            if known:
                return str(known), False
            found = self._look_up(name, description, assets)
            if found is not None:
                self.context.memory_set(f"album:{key}", found)
                self.context.memory_delete(f"album_intent:{key}")
                return found, False
            self.context.memory_set(f"album_intent:{key}", True)
            album_id = str(self.client.create_album(name, description).get("id") or "")
            if not album_id:
                raise RuntimeError("Immich created an album without an id")
            self.context.memory_set(f"album:{key}", album_id)
            self.context.memory_delete(f"album_intent:{key}")
            return album_id, True

    def _look_up(self, name: str, description: str, assets: list[str]) -> str | None:
        claimed = {str(v) for v in self.context.memory_items("album:").values()}
        wanted = set(assets)
        candidates: dict[str, dict[str, Any]] = {}
        for asset_id in assets[:1]:
            for album in self.client.albums(assetId=asset_id):
                candidates[as_str(album.get("id"))] = album
        same = [a for i, a in candidates.items() if i not in claimed and _same(a, name, description)]
        for album in sorted(same, key=lambda a: as_str(a.get("createdAt"))):
            held = {as_str(a.get("id")) for a in self.client.album_assets(as_str(album.get("id")))}
            if held <= wanted:
                return as_str(album.get("id"))
        empty = [a for a in self.client.albums() if as_str(a.get("id")) not in claimed
                 and _same(a, name, description) and not as_int(a.get("assetCount"))]
        return as_str(min(empty, key=lambda a: as_str(a.get("createdAt"))).get("id")) if empty else None

    def update(self, album_id: str, name: str, description: str) -> None:
        self.client.update_album(album_id, {"albumName": name, "description": description})

    def add(self, album_id: str, assets: list[str]) -> tuple[int, list[str]]:
        """Add the assets (each once, in batches): how many were not in the album yet, and the ones Immich no
        longer has for this user (deleted there by a person: `no_permission`/`not_found`)."""
        added, gone = 0, []
        unique = list(dict.fromkeys(assets))
        for start in range(0, len(unique), 1000):
            for result in self.client.add_to_album(album_id, unique[start:start + 1000]):
                error = as_str(result.get("error"))
                if result.get("success"):
                    added += 1
                elif error in ("no_permission", "not_found"):
                    gone.append(as_str(result.get("id")))
                elif error != "duplicate":
                    raise AlbumRefused(as_str(result.get("id")), error)
        return added, gone


class AlbumRefused(Exception):
    def __init__(self, asset_id: str, error: str) -> None:
        super().__init__(f"Immich refused to add asset {asset_id} to the album ({error})")


def _same(album: dict[str, Any], name: str, description: str) -> bool:
    return as_str(album.get("albumName")) == name and as_str(album.get("description")) == description
