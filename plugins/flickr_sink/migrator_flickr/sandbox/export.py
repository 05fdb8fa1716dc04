"""The sandbox account as Flickr's data export ("Your Flickr data"), in the real format, defects included.

One metadata ZIP (`<17 digits>_<12 hex>_part1.zip`: account files, `albums.json`, one `photo_<id>.json` per item,
tab-indented, counters as strings) and media ZIPs (`data-download-<n>.zip`, at most `per_zip` originals each,
in no particular order), every entry at the root. Flickr's known defects are on by default and each can be
switched off (`Defects`): per-photo album lists empty, friends-only and family-only merged into
"friend & family", media names that do not match the JSON's title, originals left out (`missing`) and media
files whose JSON is left out (`orphans`). The originals are the bytes the sandbox serves.
"""

from __future__ import annotations

import json
import random
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .model import Account, Photo, Photoset, epoch_to_taken

LICENSE_NAMES = {0: "All Rights Reserved", 1: "CC BY-NC-SA 2.0", 2: "CC BY-NC 2.0", 3: "CC BY-NC-ND 2.0",
                 4: "CC BY 2.0", 5: "CC BY-SA 2.0", 6: "CC BY-ND 2.0", 7: "No known copyright restrictions",
                 8: "United States Government Work", 9: "Public Domain Dedication (CC0)", 10: "Public Domain Mark"}
SAFETY = {1: "safe", 2: "moderate", 3: "restricted"}
# account files Flickr ships beside the photos (empty here: the reader keeps them as they are)
EXTRA_FILES = {"account_testimonials.json": {"testimonials": []}, "galleries.json": {"galleries": []},
               "groups.json": {"groups": []}, "contacts_part001.json": {"contacts": {}},
               "followers_part001.json": {"followers": {}}, "faves_part001.json": {"faves": []},
               "photos_comments_part001.json": {"comments": []}}


@dataclass
class Defects:
    """Flickr's known export defects; the defaults are what a real export has (no item lost)."""

    albums_empty: bool = True  # per-photo `albums` always [] (album membership only in albums.json)
    privacy_merged: bool = True  # friends-only and family-only both written "friend & family"
    names_mismatch: bool = True  # some media files named after an older title than the JSON's
    missing: int = 0  # photos whose original is left out of the media ZIPs
    orphans: int = 0  # media files whose photo_<id>.json is left out

    @classmethod
    def none(cls) -> Defects:
        return cls(albums_empty=False, privacy_merged=False, names_mismatch=False)


@dataclass
class Written:
    """What `write_export` made: the archives and the problems it planted (by photo id)."""

    archives: list[str]
    missing: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)
    media_names: dict[str, str] = field(default_factory=dict)  # photo id -> its media entry


def write_export(account: Account, folder: Path, defects: Defects | None = None, per_zip: int = 500,
                 seed: int = 0, unpacked: bool = False) -> Written:
    """Write the export of `account` into `folder` (ZIPs, or with `unpacked` one sub-folder per ZIP)."""
    defects = defects or Defects()
    rng = random.Random(f"export:{seed}")
    photos = sorted(account.photos.values(), key=lambda p: (p.date_posted, p.id))
    ids = [p.id for p in photos]
    missing = rng.sample(ids, defects.missing) if defects.missing else []
    orphans = rng.sample([i for i in ids if i not in missing], defects.orphans) if defects.orphans else []
    meta: dict[str, Any] = {"account_profile.json": profile(account), "albums.json": albums(account),
                            **EXTRA_FILES}
    for photo in photos:
        if photo.id not in orphans:
            meta[f"photo_{photo.id}.json"] = photo_json(account, photo, defects)
    media = [(media_name(photo, defects), photo) for photo in photos if photo.id not in missing]
    rng.shuffle(media)  # Flickr groups the originals neither by album nor by date
    job = f"72157{rng.randrange(10**11, 10**12)}_{rng.getrandbits(48):012x}"
    folder.mkdir(parents=True, exist_ok=True)
    archives = [f"{job}_part1.zip"]
    _write(folder / archives[0], [(name, _text(value)) for name, value in meta.items()], unpacked)
    for n, start in enumerate(range(0, len(media), per_zip), 1):
        archives.append(f"data-download-{n}.zip")
        _write(folder / archives[-1], [(name, p.read_original()) for name, p in media[start:start + per_zip]],
               unpacked)
    return Written(archives, missing, orphans, {p.id: name for name, p in media})


def _text(value: Any) -> bytes:
    return json.dumps(value, indent="\t", ensure_ascii=False).encode("utf-8")


def _write(path: Path, entries: list[tuple[str, bytes]], unpacked: bool) -> None:
    if unpacked:  # as a user's unzip tool leaves it: a folder named after the archive
        folder = path.with_suffix("")
        folder.mkdir(exist_ok=True)
        for name, data in entries:
            (folder / name).write_bytes(data)
        return
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            archive.writestr(name, data)


# -- the files --------------------------------------------------------------------------------------
def alias(account: Account) -> str:
    return account.user.path_alias or account.user.nsid


def profile(account: Account) -> dict[str, Any]:
    user = account.user
    return {"real_name": user.realname, "screen_name": user.username, "nsid": user.nsid,
            "profile_url": f"https://www.flickr.com/people/{alias(account)}/",
            "join_date": epoch_to_taken(user.created_at), "path_alias": user.path_alias or "", "pro_user": "no"}


def albums(account: Account) -> dict[str, Any]:
    """`albums.json`: the user's album order, each album's photos in album order."""
    return {"albums": [album(account, s) for s in account.photosets]}


def album(account: Account, photoset: Photoset) -> dict[str, Any]:
    base = f"https://www.flickr.com/photos/{alias(account)}"
    return {"photo_count": str(len(photoset.photos)), "id": photoset.id, "url": f"{base}/albums/{photoset.id}",
            "title": photoset.title, "description": photoset.description, "view_count": str(photoset.count_views),
            "created": str(photoset.date_create), "last_updated": str(photoset.date_update),
            "cover_photo": f"{base}/{photoset.primary or 0}", "photos": list(photoset.photos)}


def privacy(photo: Photo, merged: bool) -> str:
    if photo.is_public:
        return "public"
    if photo.is_friend and photo.is_family or merged and (photo.is_friend or photo.is_family):
        return "friend & family"
    return "friends" if photo.is_friend else "family" if photo.is_family else "private"


def photo_json(account: Account, photo: Photo, defects: Defects) -> dict[str, Any]:
    """`photo_<id>.json`: the 25 keys in Flickr's order."""
    base = f"https://www.flickr.com/photos/{alias(account)}"
    profile_url = f"{base}/"
    comments = account.comments.get(photo.id, [])
    geo = []
    if photo.geo:
        geo = [{"latitude": micro(photo.geo["latitude"]), "longitude": micro(photo.geo["longitude"]),
                "accuracy": str(photo.geo.get("accuracy", 16))}]
    sets = [] if defects.albums_empty else [{"id": s.id, "title": s.title, "url": f"{base}/sets/{s.id}/"}
                                            for s in account.sets_of(photo.id)]
    tagged = epoch_to_taken(photo.date_posted)
    return {
        "id": photo.id, "name": photo.title, "description": photo.description, "count_views": str(photo.views),
        "count_faves": "0", "count_comments": str(len(comments)), "date_taken": photo.date_taken,
        "count_tags": str(len(photo.tags)), "count_notes": "0", "rotation": photo.rotation,
        "date_imported": epoch_to_taken(photo.date_posted), "photopage": f"{base}/{photo.id}/",
        "original": f"https://live.staticflickr.com/{photo.server}/{photo.id}_{photo.originalsecret}_o."
                    f"{'jpg' if photo.media == 'video' else photo.original_format}",
        "license": LICENSE_NAMES.get(photo.license, "All Rights Reserved"), "geo": geo, "groups": [], "albums": sets,
        "tags": [{"tag": t.raw, "user": profile_url, "date_create": tagged} for t in photo.tags], "people": [],
        "notes": [], "privacy": privacy(photo, defects.privacy_merged), "comment_permissions": "any flickr member",
        "tagging_permissions": "people you follow", "safety": SAFETY.get(photo.safety_level, "safe"),
        "comments": [{"id": c.id, "date": epoch_to_taken(c.datecreate), "user": c.author, "comment": c.text,
                      "url": f"{base}/{photo.id}/#comment{c.id}"} for c in comments],
    }


def micro(degrees: float) -> str:
    """Flickr's export writes coordinates as millionths of a degree, in text."""
    return str(round(degrees * 1e6))


def slug(title: str) -> str:
    """Flickr's lossy file-name form of a title: lower case, runs of other characters as one `-`."""
    return re.sub(r"[^a-z0-9_]+", "-", title.lower())[:60]


def media_name(photo: Photo, defects: Defects) -> str:
    """Pattern A `<slug>_<id>_o.<ext>`; B `<id>_<secret>_o.<ext>` when the title gives no slug; videos C
    `<slug>_<id>.<ext>`. With `names_mismatch`, every third photo's slug is an older title's."""
    title = photo.title
    if defects.names_mismatch and int(photo.id) % 3 == 0:
        title = f"DSC_{photo.id[-4:]}"
    name = slug(title)
    if photo.media == "video":
        return f"{name or 'video'}_{photo.id}.{photo.original_format}"
    if not name.strip("-"):
        return f"{photo.id}_{photo.originalsecret}_o.{photo.original_format}"
    return f"{name}_{photo.id}_o.{photo.original_format}"
