"""A photo's metadata on Flickr: what it should hold, and the fewest calls that bring it there.

`wanted` turns a document into the fields the sink writes (also saved as the stored record's data, so
the next run compares against it); `Metadata.apply` sends one call per field that differs from what
the photo is known to hold. A refusal that leaves the photo usable (a date, the location, the license,
the visibility) becomes a warning; "photo not found" means the photo was deleted on Flickr.

Rotating is the one edit that is not idempotent (flickr.photos.transform.rotate turns the photo by so many
degrees more): the target is noted in the plugin memory before the call, and while such a note is left (a
lost answer, a kill) or the photo's rotation is unknown, the photo's rotation is read before turning it.
"""

from __future__ import annotations

import threading
import time
from calendar import timegm
from typing import Any

from migrator import Context, Document
from migrator.licenses import ALL_RIGHTS_RESERVED, canonical, service_code
from migrator.records import rotation as record_rotation

from .client import FlickrCallError, FlickrClient, machine_tag, quote_tags
from .licenses import FLICKR
from .options import COMMENTS_IN_DESCRIPTION

GRANULARITY = {"second": 0, "day": 0, "month": 4, "year": 6, "circa": 8}
SAFETY = {1: (1, 1), 2: (2, 1), 3: (3, 2)}  # record safety → (safety_level, hidden)
UPLOAD_FIELDS = ("title", "description", "tags", "perms", "safety")  # what the upload itself sets


class PhotoGone(Exception):
    """A photo the state knows is no longer on Flickr (deleted by hand)."""


def wanted(doc: Document, privacy: str, comments: str) -> dict[str, Any]:
    """Every field the sink sets on the document's photo, as Flickr's calls take them."""
    tag = machine_tag(doc.source, doc.id)
    perms = [0, 0, 0] if privacy == "private" else [
        int(doc.visibility.public), int(doc.visibility.friends), int(doc.visibility.family)]
    return {"title": doc.title, "description": description(doc, comments), "machine_tag": tag,
            "tags": quote_tags([*doc.tags, tag]), "perms": perms, "safety": list(SAFETY.get(doc.safety, (1, 1))),
            "taken": doc.taken_at.replace("T", " ") if doc.taken_at else None,
            "granularity": GRANULARITY.get(doc.taken_granularity or "second", 0),
            "posted": _epoch(doc.posted_at), "geo": [doc.geo.latitude, doc.geo.longitude] if doc.geo else None,
            "license": doc.license, "rotation": doc.rotation if doc.media == "photo" else 0}


def description(doc: Document, comments: str) -> str:
    if comments != COMMENTS_IN_DESCRIPTION or not doc.comments:
        return doc.description
    lines = [f"{c.author} ({(c.posted_at or '')[:10]}): {c.text}" for c in doc.comments]
    return doc.description + f"\n\n— comments from {doc.source}:\n" + "\n".join(lines)


def as_uploaded(want: dict[str, Any]) -> dict[str, Any]:
    """What a fresh upload already holds: the fields the upload itself sets, and no rotation."""
    return {**{k: want[k] for k in UPLOAD_FIELDS}, "rotation": 0}


def upload_fields(want: dict[str, Any]) -> dict[str, Any]:
    """The upload's own form fields for those same values."""
    return {"title": want["title"], "description": want["description"], "tags": want["tags"],
            "is_public": want["perms"][0], "is_friend": want["perms"][1], "is_family": want["perms"][2],
            "safety_level": want["safety"][0], "hidden": want["safety"][1]}


class Metadata:
    def __init__(self, client: FlickrClient, lock: threading.RLock, context: Context) -> None:
        self.client, self.lock, self.context = client, lock, context
        self._upload_license: str | None = None

    def default_license(self, photo_id: str) -> str | None:
        """The license a fresh upload gets (the account's default), read once per run from the first one."""
        with self.lock:
            if self._upload_license is None:
                info = self.client.call("flickr.photos.getInfo", photo_id=photo_id).get("photo") or {}
                self._upload_license = canonical(FLICKR, info.get("license")) or ALL_RIGHTS_RESERVED
            return self._upload_license

    def apply(self, photo_id: str, want: dict[str, Any], have: dict[str, Any], warnings: list[str]) -> None:
        """Bring the photo's metadata to `want` with as few calls as the differences need."""
        try:
            self._apply_changes(photo_id, want, have, warnings)
        except FlickrCallError as exc:
            if exc.code == 1:  # "Photo not found": every photos.* method says so for a deleted photo
                raise PhotoGone(photo_id) from None
            raise

    def _apply_changes(self, photo_id: str, want: dict[str, Any], have: dict[str, Any], warnings: list[str]) -> None:
        if (want["title"], want["description"]) != (have.get("title"), have.get("description")):
            self.client.call("flickr.photos.setMeta", photo_id=photo_id, title=want["title"],
                             description=want["description"])
        if want["tags"] != have.get("tags"):
            self.client.call("flickr.photos.setTags", photo_id=photo_id, tags=want["tags"])
        if want["perms"] != have.get("perms"):
            pub, fr, fa = want["perms"]
            self._try(warnings, "visibility", "flickr.photos.setPerms", photo_id=photo_id, is_public=pub,
                      is_friend=fr, is_family=fa)
        if want["safety"] != have.get("safety"):
            # setSafetyLevel says hidden as 0/1 where the upload says 1 (shown) / 2 (hidden)
            self.client.call("flickr.photos.setSafetyLevel", photo_id=photo_id, safety_level=want["safety"][0],
                             hidden=int(want["safety"][1] == 2))
        if (want["taken"], want["granularity"], want["posted"]) != \
                (have.get("taken"), have.get("granularity"), have.get("posted")):
            self._set_dates(photo_id, want, warnings)
        if want["geo"] != have.get("geo") and want["geo"] is not None:
            self._try(warnings, "location", "flickr.photos.geo.setLocation", photo_id=photo_id,
                      lat=f"{want['geo'][0]:.6f}", lon=f"{want['geo'][1]:.6f}")
        if want["license"] != have.get("license") and want["license"]:
            self._set_license(photo_id, want["license"], warnings)
        self._rotate(photo_id, want.get("rotation") or 0, have.get("rotation"), warnings)

    def _rotate(self, photo_id: str, target: int, known: int | None, warnings: list[str]) -> None:
        """Turn the photo to `target` degrees, exactly once (see the module's docstring)."""
        intent = f"rotate:{photo_id}"
        pending = self.context.memory_get(intent) is not None
        if not pending and (known == target or (known is None and not target)):
            return  # known already right; or never rotated by us and not to be rotated
        current = self.rotation(photo_id) if pending or known is None else known
        degrees = (target - current) % 360
        if degrees:
            self.context.memory_set(intent, target)
            try:  # a lost answer is AnswerLost: the retry finds the note and reads the rotation first
                self.client.call_once("flickr.photos.transform.rotate", photo_id=photo_id, degrees=degrees)
            except FlickrCallError as exc:
                if exc.code == 1:
                    raise
                warnings.append(f"Flickr refused to rotate the photo by {degrees}°: {exc.message}")
        if pending or degrees:
            self.context.memory_delete(intent)

    def rotation(self, photo_id: str) -> int:
        """The photo's rotation on Flickr now (a read)."""
        info = self.client.call("flickr.photos.getInfo", photo_id=photo_id).get("photo") or {}
        return record_rotation(info.get("rotation"))

    def _set_dates(self, photo_id: str, want: dict[str, Any], warnings: list[str]) -> None:
        args = {"date_taken": want["taken"], "date_taken_granularity": want["granularity"] if want["taken"] else None,
                "date_posted": want["posted"]}
        while args.get("date_taken") or args.get("date_posted"):
            try:
                self.client.call("flickr.photos.setDates", photo_id=photo_id, **args)
                return
            except FlickrCallError as exc:
                if exc.code == 1:
                    raise
                if exc.code == 4 and args.get("date_posted"):
                    warnings.append("Flickr refused the posted date (earlier than the account); kept the upload "
                                    "date")
                    args["date_posted"] = None
                elif exc.code in (5, 6) and args.get("date_taken"):
                    warnings.append(f"Flickr refused the date taken {want['taken']} ({exc.message})")
                    args["date_taken"] = args["date_taken_granularity"] = None
                else:
                    warnings.append(f"Flickr refused the dates ({exc.message})")
                    return

    def _set_license(self, photo_id: str, license_id: str, warnings: list[str]) -> None:
        code = service_code(FLICKR, license_id)
        if code is None or code == "7":
            warnings.append(f"Flickr has no settable license for {license_id}; left at the account default")
            return
        self._try(warnings, "license", "flickr.photos.licenses.setLicense", photo_id=photo_id, license_id=code)

    def _try(self, warnings: list[str], what: str, method: str, **params: Any) -> None:
        """A metadata call whose refusal keeps the photo: the reason becomes a warning."""
        try:
            self.client.call(method, **params)
        except FlickrCallError as exc:
            if exc.code == 1:
                raise
            hint = " (set a default geo privacy in your Flickr settings)" if exc.code == 7 and "geo" in method else ""
            warnings.append(f"Flickr refused the {what}: {exc.message}{hint}")


def _epoch(iso_utc: str | None) -> int | None:
    if not iso_utc:
        return None
    return timegm(time.strptime(iso_utc, "%Y-%m-%dT%H:%M:%SZ"))
