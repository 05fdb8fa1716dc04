"""The account model behind the sandbox: photos, sets, collections, comments.

Everything here is plain Python data; the HTTP layer holds one lock around it."""

from __future__ import annotations

import calendar
import contextlib
import hashlib
import os
import random
import re
import time
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from . import media

SERVER = "65535"
FARM = 66

LICENSES: list[tuple[int, str, str]] = [
    (0, "All Rights Reserved", ""),
    (1, "Attribution-NonCommercial-ShareAlike License", "https://creativecommons.org/licenses/by-nc-sa/2.0/"),
    (2, "Attribution-NonCommercial License", "https://creativecommons.org/licenses/by-nc/2.0/"),
    (3, "Attribution-NonCommercial-NoDerivs License", "https://creativecommons.org/licenses/by-nc-nd/2.0/"),
    (4, "Attribution License", "https://creativecommons.org/licenses/by/2.0/"),
    (5, "Attribution-ShareAlike License", "https://creativecommons.org/licenses/by-sa/2.0/"),
    (6, "Attribution-NoDerivs License", "https://creativecommons.org/licenses/by-nd/2.0/"),
    (7, "No known copyright restrictions", "https://www.flickr.com/commons/usage/"),
    (8, "United States Government Work", "http://www.usa.gov/copyright.shtml"),
    (9, "Public Domain Dedication (CC0)", "https://creativecommons.org/publicdomain/zero/1.0/"),
    (10, "Public Domain Mark", "https://creativecommons.org/publicdomain/mark/1.0/"),
]
LICENSE_IDS = {lic[0] for lic in LICENSES}

MAX_TAGS = 75


def now() -> int:
    return int(time.time())


# --------------------------------------------------------------------------------------------
# Tags

_MACHINE_RE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*):([A-Za-z_][A-Za-z0-9_]*)=(.+)$", re.S)


def split_tags(text: str) -> list[str]:
    """Split a Flickr tag string: spaces separate tags, double quotes group words.

    ``'a "new york" dc:title="two words"'`` -> ``['a', 'new york', 'dc:title=two words']``."""
    tags: list[str] = []
    cur: list[str] = []
    quoted = False
    for ch in text or "":
        if ch == '"':
            quoted = not quoted
            continue
        if ch.isspace() and not quoted:
            if cur:
                tags.append("".join(cur))
                cur = []
            continue
        cur.append(ch)
    if cur:
        tags.append("".join(cur))
    return [t.strip() for t in tags if t.strip()]


def parse_machine_tag(raw: str) -> tuple[str, str, str] | None:
    m = _MACHINE_RE.match(raw)
    if not m:
        return None
    return m.group(1), m.group(2), m.group(3)


def normalize_tag(raw: str) -> str:
    """Flickr's "clean" tag form (``_content``): lower case, only letters and digits.

    Machine tags keep their ``ns:predicate=value`` shape: namespace and predicate
    lower-cased, the value lower-cased (sandbox choice, searches are case-insensitive)."""
    mt = parse_machine_tag(raw)
    if mt:
        ns, pred, value = mt
        return f"{ns.lower()}:{pred.lower()}={value.strip().lower()}"
    return "".join(ch for ch in raw.lower() if ch.isalnum())


@dataclass
class Tag:
    id: str
    raw: str
    content: str
    machine: bool
    author: str


# --------------------------------------------------------------------------------------------
# Dates

_TAKEN_RE = re.compile(
    r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2})(?:[ T](\d{1,2})(?::(\d{1,2})(?::(\d{1,2}))?)?)?)?)?$"
)


class DateFormatError(ValueError):
    pass


class DateRangeError(ValueError):
    pass


def normalize_taken(text: str) -> str:
    """MySQL datetime, possibly truncated (``2004-04`` -> ``2004-04-01 00:00:00``)."""
    m = _TAKEN_RE.match((text or "").strip())
    if not m:
        raise DateFormatError(text)
    y, mo, d, hh, mi, ss = (int(g) if g is not None else None for g in m.groups())
    mo = mo or 1
    d = d or 1
    hh, mi, ss = hh or 0, mi or 0, ss or 0
    try:
        datetime(y, mo, d, hh, mi, ss)
    except ValueError as exc:
        raise DateRangeError(text) from exc
    return f"{y:04d}-{mo:02d}-{d:02d} {hh:02d}:{mi:02d}:{ss:02d}"


def taken_to_epoch(taken: str) -> int:
    dt = datetime.strptime(taken, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    return calendar.timegm(dt.utctimetuple())


def epoch_to_taken(ts: float) -> str:
    return datetime.fromtimestamp(int(ts), tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


def parse_date_arg(value: str) -> int | None:
    """A Flickr min/max date argument: unix timestamp or MySQL datetime."""
    value = (value or "").strip()
    if not value:
        return None
    if re.fullmatch(r"-?\d+", value) and len(value) != 4:
        return int(value)
    try:
        return taken_to_epoch(normalize_taken(value))
    except ValueError:
        return None


# --------------------------------------------------------------------------------------------
# Entities


@dataclass
class User:
    nsid: str
    username: str
    realname: str
    created_at: int
    location: str = ""
    path_alias: str | None = None

    @property
    def numeric(self) -> str:
        return self.nsid.split("@", 1)[0]


@dataclass
class Photo:
    id: str
    secret: str
    originalsecret: str
    title: str = ""
    description: str = ""
    tags: list[Tag] = field(default_factory=list)
    is_public: int = 1
    is_friend: int = 0
    is_family: int = 0
    safety_level: int = 1  # upload scale 1..3 (getInfo reports 0..2)
    hidden: int = 1  # 1 shown in global search, 2 hidden
    content_type: int = 1
    date_taken: str = ""
    date_taken_granularity: int = 0
    date_taken_unknown: int = 0
    date_posted: int = 0
    date_uploaded: int = 0  # when the bytes really arrived (never changes)
    last_update: int = 0
    geo: dict[str, Any] | None = None
    license: int = 0
    media: str = "photo"
    original_format: str = "jpg"
    width: int = 0
    height: int = 0
    sha256: str = ""
    size: int = 0
    path: str | None = None  # uploaded original on disk
    blob: bytes | None = None  # seeded original in memory
    perm_comment: int = 3
    perm_addmeta: int = 2
    views: int = 0
    rotation: int = 0
    server: str = SERVER
    farm: int = FARM
    visible_at: float = 0.0  # time.monotonic() from which photos.search sees it

    def read_original(self) -> bytes:
        if self.blob is not None:
            return self.blob
        if self.path:
            with open(self.path, "rb") as fh:
                return fh.read()
        return b""

    def plain_tags(self) -> list[Tag]:
        return [t for t in self.tags if not t.machine]

    def machine_tags(self) -> list[Tag]:
        return [t for t in self.tags if t.machine]


@dataclass
class Photoset:
    id: str
    title: str
    description: str
    primary: str
    photos: list[str]
    date_create: int
    date_update: int
    secret: str = ""
    count_views: int = 0


@dataclass
class Collection:
    id: str
    title: str
    description: str = ""
    sets: list[str] = field(default_factory=list)
    collections: list[Collection] = field(default_factory=list)
    date_create: int = 0


@dataclass
class Comment:
    id: str
    photo_id: str
    author: str
    authorname: str
    datecreate: int
    text: str
    realname: str = ""


@dataclass
class Ticket:
    id: str
    created: float  # monotonic
    ready_at: float
    pending: dict[str, Any] | None  # photo fields until completed
    photo_id: str | None = None
    complete: int = 0  # 0 pending, 1 done, 2 failed


class Account:
    """One Flickr account: the live model the sandbox serves."""

    def __init__(self, user: User, seed: int = 0) -> None:
        self.user = user
        self.photos: dict[str, Photo] = {}
        self.photosets: list[Photoset] = []
        self.collections: list[Collection] = []
        self.comments: dict[str, list[Comment]] = {}
        self.tickets: dict[str, Ticket] = {}
        self.rng = random.Random(f"ids:{seed}")
        self._next_photo = 53_000_000_000 + self.rng.randrange(0, 900_000_000)
        self._next_set = 72_177_720_300_000_000 + self.rng.randrange(0, 90_000_000)
        self._next_ticket = 1_000 + self.rng.randrange(0, 9_000)
        self._next_comment = 72_157_000_000_000_000 + self.rng.randrange(0, 90_000_000)
        self.keep_retired_files = False  # a sandbox that saves itself deletes them at its next start

    def retire_file(self, path: str) -> None:
        """An uploaded original no photo uses any more (replaced)."""
        if not self.keep_retired_files:
            with contextlib.suppress(OSError):
                os.unlink(path)

    # -- ids -----------------------------------------------------------------------------------
    @classmethod
    def empty(cls, seed: int = 0, username: str = "sandbox", created_at: int | None = None) -> Account:
        rng = random.Random(f"user:{seed}")
        nsid = f"{rng.randrange(10_000_000, 200_000_000)}@N0{rng.randrange(0, 8)}"
        if created_at is None:
            created_at = 1262304000  # 2010-01-01 00:00:00 UTC
        user = User(nsid=nsid, username=username, realname="Sandbox User", created_at=int(created_at))
        return cls(user, seed=seed)

    def new_photo_id(self) -> str:
        self._next_photo += self.rng.randrange(1, 5000)
        return str(self._next_photo)

    def new_set_id(self) -> str:
        self._next_set += self.rng.randrange(1, 50_000)
        return str(self._next_set)

    def new_collection_id(self) -> str:
        self._next_set += self.rng.randrange(1, 50_000)
        return f"{self.user.numeric}-{self._next_set}"

    def new_ticket_id(self) -> str:
        self._next_ticket += self.rng.randrange(1, 20)
        return str(self._next_ticket)

    def new_comment_id(self) -> str:
        self._next_comment += self.rng.randrange(1, 5000)
        return f"{self.user.numeric}-{self._next_comment}"

    def new_secret(self) -> str:
        return f"{self.rng.getrandbits(40):010x}"

    def tag_id(self, photo_id: str, content: str) -> str:
        return f"{self.user.numeric}-{photo_id}-{zlib.crc32(content.encode('utf-8'))}"

    # -- lookups ---------------------------------------------------------------------------------
    def get_set(self, set_id: str) -> Photoset | None:
        for s in self.photosets:
            if s.id == set_id:
                return s
        return None

    def sets_of(self, photo_id: str) -> list[Photoset]:
        return [s for s in self.photosets if photo_id in s.photos]

    def find_collection(self, coll_id: str) -> Collection | None:
        stack = list(self.collections)
        while stack:
            c = stack.pop()
            if c.id == coll_id:
                return c
            stack.extend(c.collections)
        return None

    def counts(self) -> dict[str, int]:
        items = len(self.photos)
        nonpublic = sum(1 for p in self.photos.values() if not p.is_public)
        videos = sum(1 for p in self.photos.values() if p.media == "video")
        return {"items": items, "nonpublic": nonpublic, "videos": videos}

    # -- mutation helpers ------------------------------------------------------------------------
    def make_tags(self, photo: Photo, raws: list[str], author: str | None = None) -> list[Tag]:
        out = []
        for raw in raws:
            content = normalize_tag(raw)
            if not content:
                continue
            out.append(Tag(id=self.tag_id(photo.id, content), raw=raw, content=content,
                           machine=parse_machine_tag(raw) is not None, author=author or self.user.nsid))
        return out

    def add_tags(self, photo: Photo, raws: list[str], replace: bool = False, truncate: bool = False) -> bool:
        """Add (or replace with) raw tags; False (nothing changed) if the tag limit would be
        exceeded, unless ``truncate`` (uploads keep the first tags that fit)."""
        current = [] if replace else list(photo.tags)
        seen = {t.content for t in current}
        for tag in self.make_tags(photo, raws):
            if tag.content in seen:
                continue
            seen.add(tag.content)
            current.append(tag)
        if len(current) > MAX_TAGS:
            if not truncate:
                return False
            current = current[:MAX_TAGS]
        photo.tags = current
        return True

    def remove_photo(self, photo_id: str) -> None:
        self.photos.pop(photo_id, None)
        self.comments.pop(photo_id, None)
        for s in list(self.photosets):
            if photo_id in s.photos:
                s.photos.remove(photo_id)
                s.date_update = now()
                if not s.photos:
                    self.photosets.remove(s)
                elif s.primary == photo_id:
                    s.primary = s.photos[0]
        live = {s.id for s in self.photosets}
        stack = list(self.collections)
        while stack:
            c = stack.pop()
            c.sets = [x for x in c.sets if x in live]
            stack.extend(c.collections)

    def remove_set(self, set_id: str) -> None:
        self.photosets = [s for s in self.photosets if s.id != set_id]
        stack = list(self.collections)
        while stack:
            c = stack.pop()
            c.sets = [x for x in c.sets if x != set_id]
            stack.extend(c.collections)

    # -- dump --------------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        def coll(c: Collection) -> dict[str, Any]:
            return {"id": c.id, "title": c.title, "description": c.description, "sets": list(c.sets),
                    "collections": [coll(x) for x in c.collections]}

        photos = []
        for p in self.photos.values():
            photos.append({
                "id": p.id,
                "title": p.title,
                "description": p.description,
                "tags": [t.raw for t in p.plain_tags()],
                "tags_normalized": [t.content for t in p.plain_tags()],
                "machine_tags": [t.raw for t in p.machine_tags()],
                "is_public": p.is_public,
                "is_friend": p.is_friend,
                "is_family": p.is_family,
                "safety_level": p.safety_level,
                "hidden": p.hidden,
                "content_type": p.content_type,
                "date_taken": p.date_taken,
                "date_taken_granularity": p.date_taken_granularity,
                "date_taken_unknown": p.date_taken_unknown,
                "date_posted": p.date_posted,
                "date_uploaded": p.date_uploaded,
                "last_update": p.last_update,
                "geo": dict(p.geo) if p.geo else None,
                "license": p.license,
                "rotation": p.rotation,
                "media": p.media,
                "original_format": p.original_format,
                "width": p.width,
                "height": p.height,
                "original": {"sha256": p.sha256, "size": p.size},
                "sets": [s.id for s in self.sets_of(p.id)],
                "comments": [{"id": c.id, "author": c.author, "authorname": c.authorname,
                              "datecreate": c.datecreate, "text": c.text}
                             for c in self.comments.get(p.id, [])],
            })
        return {
            "user": {"nsid": self.user.nsid, "username": self.user.username, "realname": self.user.realname,
                     "created_at": self.user.created_at},
            "photos": photos,
            "photosets": [{"id": s.id, "title": s.title, "description": s.description, "primary": s.primary,
                           "photos": list(s.photos), "date_create": s.date_create, "date_update": s.date_update}
                          for s in self.photosets],
            "collections": [coll(c) for c in self.collections],
            "counts": self.counts(),
        }


def set_original(photo: Photo, data: bytes) -> None:
    photo.blob = data
    photo.path = None
    photo.size = len(data)
    photo.sha256 = hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------------------------
# Seeded accounts

_WORDS = ["harbour", "sunset", "market", "bridge", "garden", "mountain", "river", "old town", "festival",
          "portrait", "forest", "lighthouse", "snow", "station", "café", "cathedral", "beach", "vineyard"]
_PLACES = ["New York", "São Paulo", "Zürich", "Kraków", "Reykjavík", "Kyoto", "Lyon", "Porto"]
_PLAIN_TAGS = ["travel", "family", "black and white", "new york", "São Paulo", "night", "street",
               "landscape", "2012", "film", "macro", "sea side", "Ünïcödé", "dog", "cat's toy"]
_GEO = [(40.712776, -74.005974), (-23.55052, -46.633308), (47.376887, 8.541694), (50.064651, 19.944981),
        (64.146582, -21.942635), (35.011636, 135.768029), (45.764043, 4.835659), (41.157944, -8.629105)]
_COMMENTERS = [("48600090482@N01", "alice_pics", "Alice"), ("35034350743@N01", "bob.k", "Bob K."),
               ("22019733@N05", "chroma", "")]


def build_seeded_account(seed: int = 0, n_photos: int = 60, username: str = "sandbox",
                         created_at: int | None = None) -> Account:
    """An existing account for a mirroring source to read, deterministic per seed.

    It has photos and videos, sets (two share a title), nested collections,
    comments, geotags, every license id, hidden/safety variety, multi-word,
    non-ASCII and machine tags, private items, items in no set, several
    date-taken granularities (and unknown taken dates)."""
    rng = random.Random(f"seeded:{seed}")
    acct = Account.empty(seed=seed, username=username,
                         created_at=created_at if created_at is not None else 1136073600)  # 2006-01-01
    user = acct.user
    user.realname = "Sandbox Seeded"
    user.location = "Nowhere, Internet"
    start = user.created_at + 86400 * 30
    step = max(3600, (1_700_000_000 - start) // max(1, n_photos))
    photos: list[Photo] = []
    for i in range(n_photos):
        is_video = i % 9 == 4
        pid = acct.new_photo_id()
        p = Photo(id=pid, secret=acct.new_secret(), originalsecret=acct.new_secret())
        place = _PLACES[i % len(_PLACES)]
        word = _WORDS[rng.randrange(len(_WORDS))]
        if i % 11 == 7:
            p.title = ""
        elif i % 5 == 0:
            p.title = f"{word.title()} in {place}"
        else:
            p.title = f"IMG_{1000 + i:04d}" if i % 3 == 0 else f"{word} #{i}"
        if i % 4 == 0:
            p.description = f'A <b>{word}</b> near {place}. <a href="https://example.org/{i}">more</a>'
        elif i % 4 == 1:
            p.description = f"{word} — line one\nline two"
        p.media = "video" if is_video else "photo"
        posted = start + i * step + rng.randrange(0, 3600)
        p.date_posted = p.date_uploaded = posted
        p.last_update = posted + rng.randrange(0, 86400 * 10)
        taken = posted - rng.randrange(0, 86400 * 400)
        gran = [0, 0, 0, 4, 6, 8][i % 6]
        t = epoch_to_taken(taken)
        if gran == 4:
            t = t[:7] + "-01 00:00:00"
        elif gran in (6, 8):
            t = t[:4] + "-01-01 00:00:00"
        p.date_taken, p.date_taken_granularity = t, gran
        if i % 13 == 12:
            p.date_taken, p.date_taken_granularity, p.date_taken_unknown = epoch_to_taken(posted), 0, 1
        vis = i % 10
        p.is_public = 0 if vis in (3, 6, 9) else 1
        p.is_friend = 1 if vis in (3, 9) else 0
        p.is_family = 1 if vis in (6, 9) else 0
        p.safety_level = 1 if i % 7 else (2 if is_video else 3)
        p.hidden = 2 if i % 8 == 5 else 1
        p.content_type = 2 if i % 17 == 16 else 1
        p.license = i % len(LICENSES)
        if i % 3 == 1:
            lat, lon = _GEO[i % len(_GEO)]
            p.geo = {"latitude": round(lat + rng.uniform(-0.01, 0.01), 6),
                     "longitude": round(lon + rng.uniform(-0.01, 0.01), 6),
                     "accuracy": rng.choice([11, 13, 16]), "context": rng.choice([0, 1, 2]),
                     "is_public": 1, "is_contact": 0, "is_friend": 0, "is_family": 0}
        raws: list[str] = []
        if i % 6 != 5:
            raws = rng.sample(_PLAIN_TAGS, k=1 + i % 4)
        if i % 2 == 0:
            raws.append(f"seed:photo={i}")
        if i % 10 == 2:
            raws.append("dc:title=two words")
        acct.add_tags(p, raws)
        if is_video:
            p.original_format = "mp4" if i % 2 else "mov"
            p.width, p.height = 640, 360
            blob = media.make_video(f"{seed}:{pid}", size=2048 + 64 * i,
                                    brand=b"isom" if p.original_format == "mp4" else b"qt  ")
        else:
            p.original_format = "jpg"
            p.width, p.height = rng.choice([(320, 240), (240, 320), (400, 300), (128, 96)])
            blob = media.make_photo(f"sandbox seed {seed} photo {pid}", p.width, p.height,
                                    date_taken=None if p.date_taken_unknown else p.date_taken)
        set_original(p, blob)
        p.views = rng.randrange(0, 500)
        acct.photos[pid] = p
        photos.append(p)

    # Sets: created oldest first, newest first in the user's order (as Flickr lists them).
    public_ids = [p.id for p in photos]
    set_specs = [("Holidays", "Summer trip"), ("Holidays", "Winter trip"), ("Best of", ""),
                 ("Family", "Only for family"), ("Videos", "Moving pictures"),
                 ("Städte & Straßen", "Cities <i>and</i> streets"), ("Black and white", "")]
    n = len(public_ids)
    if n:
        for k, (title, desc) in enumerate(set_specs):
            if title == "Videos":
                members = [p.id for p in photos if p.media == "video"] or public_ids[:1]
            else:
                lo = (k * n) // (len(set_specs) + 2)
                members = public_ids[lo: lo + max(1, n // 6)]
                members = members[:: -1] if k % 2 else members
            sid = acct.new_set_id()
            created = photos[0].date_posted + k * 86400 * 20
            acct.photosets.insert(0, Photoset(id=sid, title=title, description=desc, primary=members[len(members) // 2],
                                              photos=list(members), date_create=created,
                                              date_update=created + 86400, secret=acct.new_secret(),
                                              count_views=rng.randrange(0, 100)))
        # Some photos in several sets.
        last = acct.photosets[0]
        for pid in public_ids[:3]:
            if pid not in last.photos:
                last.photos.append(pid)
        by_title: dict[str, list[str]] = {}
        for s in acct.photosets:
            by_title.setdefault(s.title, []).append(s.id)
        europe = Collection(id=acct.new_collection_id(), title="Europe", description="Old world",
                            sets=by_title.get("Städte & Straßen", []) + by_title.get("Holidays", [])[:1])
        empty = Collection(id=acct.new_collection_id(), title="Empty for now", description="")
        travel = Collection(id=acct.new_collection_id(), title="Travel", description="Trips & tours",
                            sets=by_title.get("Holidays", [])[1:], collections=[europe, empty])
        people = Collection(id=acct.new_collection_id(), title="People", description="",
                            sets=by_title.get("Family", []) + by_title.get("Best of", []))
        for c in (travel, europe, empty, people):
            c.date_create = user.created_at + 86400 * 400
        acct.collections = [travel, people]

    for i, p in enumerate(photos):
        if i % 5 == 2:
            lst = []
            for j in range(1 + i % 3):
                nsid, uname, real = _COMMENTERS[(i + j) % len(_COMMENTERS)]
                lst.append(Comment(id=acct.new_comment_id(), photo_id=p.id, author=nsid, authorname=uname,
                                   realname=real, datecreate=p.date_posted + 3600 * (j + 1),
                                   text=["Lovely!", "Great <b>light</b> here", "Où est-ce ?"][j % 3]))
            acct.comments[p.id] = lst
    return acct
