"""Flickr's data export completed from the API, when Flickr credentials are given (`flickr.*` options, config or
environment, as for the `flickr` source; a free account's key will do): listing calls only, all of which
free accounts may make, never a call per photo and never a file.

- flickr.people.getPhotos (ceil(N/500) pages): who may see each photo (the export merges friends-only and
  family-only into "friend & family"), the taken date's precision and the last update; and the metadata of an
  original whose JSON the export lacks;
- flickr.photosets.getList (one call per 500 albums): the albums' order;
- flickr.photosets.getPhotos, only for an album whose list in albums.json is shorter than its count;
- flickr.collections.getTree (one call): collections, which the export does not hold at all.

The run report says what came from the API; each record says it in `source_metadata["from_api"]`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from migrator.answers import as_int, items, obj, text
from migrator.errors import MigratorError

from . import mapping
from .client import FlickrCallError, connect
from .mapping import SOURCE

if TYPE_CHECKING:
    from .export import FlickrExport


def merged_privacy(export: FlickrExport) -> int:
    return sum(1 for p in export.photos.values()
               if p.raw and text(p.raw.get("privacy")).strip().lower() == "friend & family")


def fill(export: FlickrExport) -> None:
    """Complete `export` from Flickr's listings if its run was given Flickr credentials; else say what stays
    uncertain."""
    context = export.context
    settings = context.settings_of(SOURCE) if context is not None else None
    if not settings or not settings.get("api_key") or not settings.get("api_secret"):
        merged = merged_privacy(export)
        if merged:
            export.say(f"flickr export: {merged} photos are 'friend & family', which Flickr's export also writes "
                       "for friends-only and family-only photos, so their records allow both; give Flickr "
                       "credentials (flickr.api_key, flickr.api_secret and a token; a free account will do) to "
                       "read who may see them from Flickr's listing", trouble=True)
        return
    try:
        _fill(export, settings)
    except (FlickrCallError, MigratorError) as exc:
        export.listing.clear()
        export.api_containers = None
        export.album_photos.clear()
        export.say(f"flickr export: Flickr's listing could not be read ({exc}); the export alone is read",
                   trouble=True)


def _fill(export: FlickrExport, settings: dict[str, Any]) -> None:
    from .source import LIST_EXTRAS, FlickrSource

    lister = FlickrSource(settings, export.context)  # its paged listing, without open()'s per-run checks
    lister.client = connect(settings, export.context, perms="read")
    photos, _ = lister._pages("flickr.people.getPhotos", "photos", "photo", ordered=False, user_id="me",
                              extras=LIST_EXTRAS)
    listing = {text(p.get("id")): p for p in photos}
    if export.photos and not any(photo_id in listing for photo_id in export.photos):
        raise MigratorError("the account of these credentials holds none of the export's photos: is it the "
                            "export's account?")
    export.listing = listing
    sets, _ = lister._pages("flickr.photosets.getList", "photosets", "photoset", ordered=True)
    albums = []
    for position, raw in enumerate(sets, 1):
        set_id = text(raw.get("id"))
        album = export.album(set_id)
        if album is not None and len(export.album_members(album)) < (as_int(album.get("photo_count")) or 0):
            members, _ = lister._pages("flickr.photosets.getPhotos", "photoset", "photo", ordered=True,
                                       photoset_id=set_id)
            export.album_photos[set_id] = [text(m.get("id")) for m in members]
        albums.append(mapping.album(raw, [], position))
    tree = obj(lister.client.call("flickr.collections.getTree").get("collections"))
    collections = list(mapping.collections(items(tree, "collection")))
    export.api_containers = albums + collections
    known = sum(photo_id in export.listing for photo_id in export.photos)
    refilled = f"; the photo lists of albums {', '.join(export.album_photos)} from flickr.photosets.getPhotos" \
        if export.album_photos else ""
    export.say(f"flickr export + Flickr's listing: who may see each photo, the taken date's precision and the last "
               f"update of {known} photos from flickr.people.getPhotos; the albums' order from "
               f"flickr.photosets.getList{refilled}; {len(collections)} collections from flickr.collections.getTree; "
               "everything else from the export", trouble=True)
