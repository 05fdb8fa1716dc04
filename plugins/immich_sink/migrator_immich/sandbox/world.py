"""The emulated Immich server's data: users and API keys, assets, albums and tags, as plain JSON.

Kept as dicts so a whole world is saved and read back in one JSON file (`--sandbox` keeps it from run to
run) and tests read it as it is. Ids are UUIDs made from a counter: the same calls give the same ids.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

NAMESPACE = uuid.UUID("6d6b1c2e-0000-4000-8000-696d6d696368")
IMAGE_TYPES = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".heic", ".heif", ".avif", ".tif", ".tiff", ".bmp",
               ".dng", ".raw", ".cr2", ".nef", ".arw", ".jxl")
VIDEO_TYPES = (".mp4", ".mov", ".avi", ".m4v", ".webm", ".mkv", ".3gp", ".mts", ".m2ts", ".mpg", ".mpeg", ".wmv",
               ".flv")
SIDECAR_TYPES = (".xmp",)


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()  # Immich keeps keys hashed, so does the sandbox


class World:
    """One server: `data` holds everything; `storage` the uploaded files (`<asset id>` and `<asset id>.xmp`)."""

    def __init__(self, storage: Path, data: dict[str, Any] | None = None) -> None:
        self.storage = storage
        self.storage.mkdir(parents=True, exist_ok=True)
        self.data = data or {"seq": 0, "users": {}, "keys": {}, "assets": {}, "albums": {}, "tags": {}}

    @classmethod
    def new(cls, storage: Path, api_key: str, email: str = "sandbox@example.org",
            scopes: tuple[str, ...] = ("all",)) -> World:
        world = cls(storage)
        user = world.add_user(email, "Sandbox Owner")
        world.add_key(user, api_key, scopes)
        return world

    def next_id(self) -> str:
        self.data["seq"] += 1
        return str(uuid.uuid5(NAMESPACE, str(self.data["seq"])))

    def add_user(self, email: str, name: str, quota: int | None = None) -> str:
        user_id = self.next_id()
        self.data["users"][user_id] = {"id": user_id, "email": email, "name": name, "isAdmin": False,
                                       "createdAt": now(), "quotaSizeInBytes": quota, "quotaUsageInBytes": 0}
        return user_id

    def add_key(self, user_id: str, key: str, scopes: tuple[str, ...] = ("all",)) -> None:
        self.data["keys"][key_hash(key)] = {"userId": user_id, "permissions": list(scopes)}

    def key(self, key: str) -> dict[str, Any] | None:
        return self.data["keys"].get(key_hash(key))

    # -- lookups ------------------------------------------------------------------------------------
    def by_checksum(self, owner: str, checksum: str) -> dict[str, Any] | None:
        """The owner's asset with this checksum, trashed ones included (Immich's unique index)."""
        return next((a for a in self.data["assets"].values() if a["ownerId"] == owner and a["checksum"] == checksum),
                    None)

    def owned(self, kind: str, item_id: str, owner: str) -> dict[str, Any] | None:
        item = self.data[kind].get(item_id)
        return item if item is not None and item["ownerId"] == owner else None

    def usage(self, owner: str) -> int:
        return sum(a["size"] for a in self.data["assets"].values() if a["ownerId"] == owner)

    def file(self, asset_id: str) -> Path:
        return self.storage / asset_id

    # -- saving -------------------------------------------------------------------------------------
    def save(self, path: Path) -> None:
        """Atomically: a killed process leaves the old file or the new one."""
        part = path.with_name(path.name + ".part")
        part.write_text(json.dumps(self.data, ensure_ascii=False), "utf-8")
        os.replace(part, path)

    @classmethod
    def load(cls, path: Path, storage: Path) -> World:
        return cls(storage, json.loads(path.read_text("utf-8")))
