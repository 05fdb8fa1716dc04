"""Immich sandbox: a faithful emulator of the Immich API subset the `immich` sink uses, on 127.0.0.1.

What it does as Immich does (reference: shared immich_api.md §10): the API below `/api`; `x-api-key` auth
(or `apiKey=` in the query) with per-route permissions (`all` or granular scopes; 401 `Invalid API key`,
403 `Missing required permission: <scope>`); `GET /server/version|ping|media-types|about`, `/users/me`;
uploads (`POST /assets`, multipart) deduplicated per user by the SHA-1 of the bytes, trashed assets
included (201 `created`, 200 `duplicate`), `x-immich-checksum` answered before the body is read;
`bulk-upload-check`; `PUT /assets/{id}` (description, date with offset → time zone, GPS, rating,
favourite, visibility); `POST /search/metadata`; trash (`DELETE /assets`, restore); albums (names not
unique, per-id add results with `duplicate`); tags (`/` paths, idempotent upsert, bulk tagging,
untagging per asset).

Versions (`ImmichSandbox(version="2.7.5")`, or set `sb.version` while it runs): below 3 the upload
requires `deviceAssetId` and `deviceId`, errors are `{message, error, statusCode, correlationId}` with
`x-immich-cid`, albums embed `assets`/`owner`, `POST /assets/exist` exists; from 3 the device fields are
ignored, `duration` must be integer milliseconds, dates need an offset, errors are `{message, errors?}`
with `X-Correlation-ID`, `GET /albums?name=` filters, and `/server/version` has `prerelease`.

Faults (`sb.knobs`, see `Knobs`): latency, random 5xx, bursts, answers lost after the call was carried
out, every key refused (401), a proxy's 413, a storage quota, a full disk, refused file types.

Ground truth: `sb.state()` (assets with their exif, tag paths; albums; tags), `sb.read_original(id)`,
`sb.read_sidecar(id)`, `sb.calls` (requests per route), `sb.lost_answers`.

    with ImmichSandbox(version="3.1.0") as sb:
        sb.cli_options()   # ["-o", "immich.url=http://127.0.0.1:PORT", "-o", "immich.api_key=...", ...]
"""

from .server import ImmichSandbox, Knobs
from .world import World

__all__ = ["ImmichSandbox", "Knobs", "World"]
