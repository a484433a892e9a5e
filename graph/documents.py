"""Persisted documents: Automatic Persisted Queries (Apollo's protocol) and trusted documents.

APQ: a client sends `extensions.persistedQuery = {"version": 1, "sha256Hash": ...}` alone; the
server answers with the document it keeps under that hash, or PERSISTED_QUERY_NOT_FOUND (200,
as Apollo Server and Router answer it), and the client sends the hash again with `query`,
which registers it. The store is per process and bounded: clients register again wherever
they meet a replica that has not seen the document.

Trusted documents (HARBORGRAPH_TRUSTED_DOCUMENTS, Apollo's persisted query manifest): only
the listed operations run, by id; Apollo Router's codes for what is refused.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphql import GraphQLError, OperationDefinitionNode

from graph.settings import Settings, SettingsError
from schema import parse_document

VARIABLE = "HARBORGRAPH_TRUSTED_DOCUMENTS"
MANIFEST_FORMAT = "apollo-persisted-query-manifest"
OPERATION_TYPES = ("query", "mutation", "subscription")
SHA256_HEX = re.compile(r"^[0-9a-fA-F]{64}$")
# The APQ store, per process: a flood of registrations costs at most this much memory.
MAX_ENTRIES = 10_000
MAX_BYTES = 16 * 1024 * 1024

BAD_REQUEST = "BAD_REQUEST"
NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"  # Apollo Server and Router
HASH_MISMATCH = "PERSISTED_QUERY_HASH_MISMATCH"  # Apollo Router
ID_REQUIRED = "PERSISTED_QUERY_ID_REQUIRED"  # Apollo Router, safelist.require_id
NOT_IN_LIST = "PERSISTED_QUERY_NOT_IN_LIST"  # Apollo Router
ID_AND_BODY = "CANNOT_SEND_PQ_ID_AND_BODY"  # Apollo Router, APQ off
ID_REQUIRED_MESSAGE = (
    "only trusted documents run here: send the operation's id in "
    "`extensions.persistedQuery.sha256Hash`, without `query`"
)
ID_AND_BODY_MESSAGE = (
    "send a trusted document's id without `query`: documents are not registered here"
)


class Refused(Exception):
    """A request whose document cannot be had: its HTTP status, code and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    @property
    def errors(self) -> list[dict[str, Any]]:
        return [{"message": self.message, "extensions": {"code": self.code}}]


@dataclass(frozen=True, slots=True)
class Document:
    text: str
    by_hash: bool  # named by its hash alone: the request form a CDN may cache


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class QueryCache:
    """APQ's documents by hash, the least recently used out first: bounded in entries and in
    bytes, so registrations cost memory only up to the bound."""

    def __init__(self, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.bytes = 0
        self._entries: OrderedDict[str, tuple[str, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> str | None:
        found = self._entries.get(key)
        if found is None:
            return None
        self._entries.move_to_end(key)
        return found[0]

    def put(self, key: str, text: str) -> None:
        size = len(key) + len(text.encode())
        if size > self.max_bytes:
            return
        self._drop(key)
        self._entries[key] = (text, size)
        self.bytes += size
        while len(self._entries) > self.max_entries or self.bytes > self.max_bytes:
            self._drop(next(iter(self._entries)))

    def _drop(self, key: str) -> None:
        found = self._entries.pop(key, None)
        if found is not None:
            self.bytes -= found[1]


def _persisted_hash(extensions: Mapping[str, Any] | None) -> str | None:
    """The hash of `extensions.persistedQuery`, None without one; 400 for a malformed one."""
    if extensions is None or extensions.get("persistedQuery") is None:
        return None
    persisted = extensions["persistedQuery"]
    if not isinstance(persisted, dict):
        raise Refused(400, BAD_REQUEST, "`extensions.persistedQuery` must be an object")
    version = persisted.get("version")
    if type(version) is not int or version != 1:
        raise Refused(400, BAD_REQUEST, "Unsupported persisted query version: only 1 is")
    value = persisted.get("sha256Hash")
    if not isinstance(value, str) or not SHA256_HEX.match(value):
        message = "`extensions.persistedQuery.sha256Hash` must be a SHA-256 hash in hex"
        raise Refused(400, BAD_REQUEST, message)
    return value.lower()


def _query(query: object) -> str | None:
    if query is not None and (not isinstance(query, str) or not query.strip()):
        raise Refused(400, BAD_REQUEST, "`query` must be a non-empty string")
    return query


def _parses(text: str) -> bool:
    try:
        parse_document(text)
    except GraphQLError:
        return False
    return True


class Documents:
    """Where a request's document comes from: its `query`, the APQ store, or (trusted
    documents) the manifest alone."""

    def __init__(self, trusted: Mapping[str, str] | None = None) -> None:
        self.trusted = trusted  # id -> body; None: any document runs
        self.cache = QueryCache()

    def resolve(self, query: object, extensions: Mapping[str, Any] | None) -> Document:
        key = _persisted_hash(extensions)
        text = _query(query)
        if self.trusted is not None:
            return self._trusted(self.trusted, text, key)
        if key is None:
            if text is None:
                raise Refused(400, BAD_REQUEST, "`query` must be a non-empty string")
            return Document(text, by_hash=False)
        if text is None:
            found = self.cache.get(key)
            if found is None:  # the client sends the query next: 200, as Apollo's servers do
                raise Refused(200, NOT_FOUND, "PersistedQueryNotFound")
            return Document(found, by_hash=True)
        if sha256_hex(text) != key:  # else one could file any document under a known hash
            raise Refused(400, HASH_MISMATCH, "`sha256Hash` is not the SHA-256 of `query`")
        if _parses(text):  # junk is not kept
            self.cache.put(key, text)
        return Document(text, by_hash=False)

    @staticmethod
    def _trusted(manifest: Mapping[str, str], text: str | None, key: str | None) -> Document:
        if key is None:
            raise Refused(400, ID_REQUIRED, ID_REQUIRED_MESSAGE)
        if text is not None:  # an APQ registration: nothing is added to the list
            raise Refused(400, ID_AND_BODY, ID_AND_BODY_MESSAGE)
        body = manifest.get(key)
        if body is None:
            raise Refused(404, NOT_IN_LIST, f"no trusted document has the id {key!r}")
        return Document(body, by_hash=True)

    def socket_refusal(self, payload: dict[str, Any]) -> list[dict[str, Any]] | None:
        """For a WebSocket `subscribe`: sets the payload's `query` to the document, or answers
        the errors of a refused one (the same rules as over HTTP)."""
        extensions = payload.get("extensions")
        try:
            if extensions is not None and not isinstance(extensions, dict):
                raise Refused(400, BAD_REQUEST, "`extensions` must be an object")
            payload["query"] = self.resolve(payload.get("query"), extensions).text
        except Refused as refused:
            return refused.errors
        return None


# --- The manifest ---------------------------------------------------------------------------


class ManifestError(ValueError):
    """A manifest (or the files one is built from) that cannot be used; the message says why."""


def _field(operation: Mapping[str, Any], name: str, at: str) -> str:
    value = operation.get(name)
    if not isinstance(value, str) or not value:
        raise ManifestError(f"{at}: `{name}` must be a non-empty string")
    return value


def _operation_types(body: str) -> dict[str | None, str]:
    """The operations of a document: name -> type."""
    try:
        document = parse_document(body)
    except GraphQLError as error:
        raise ManifestError(f"the body does not parse: {error.message}") from None
    return {
        d.name.value if d.name else None: d.operation.value
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
    }


def _checked_operation(operation: object, at: str) -> tuple[str, str]:
    """An entry's id and body: the id is the body's SHA-256, the body holds the named
    operation of the given type."""
    if not isinstance(operation, dict):
        raise ManifestError(f"{at}: must be an object")
    key, name = _field(operation, "id", at), _field(operation, "name", at)
    kind, body = _field(operation, "type", at), _field(operation, "body", at)
    if kind not in OPERATION_TYPES:
        raise ManifestError(f"{at}: `type` must be one of {', '.join(OPERATION_TYPES)}")
    if key != sha256_hex(body):
        raise ManifestError(f"{at} ({name}): `id` is not the SHA-256 of its `body`")
    try:
        found = _operation_types(body).get(name)
    except ManifestError as error:
        raise ManifestError(f"{at} ({name}): {error}") from None
    if found != kind:
        raise ManifestError(f"{at}: the body has no {kind} named {name!r}")
    return key, body


def checked_manifest(manifest: object) -> dict[str, str]:
    """Apollo's persisted query manifest, checked: its operations' bodies by id."""
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        raise ManifestError(f'`format` must be "{MANIFEST_FORMAT}"')
    version = manifest.get("version")
    if type(version) is not int or version != 1:
        raise ManifestError("`version` must be 1")
    operations = manifest.get("operations")
    if not isinstance(operations, list) or not operations:
        raise ManifestError("`operations` must be a non-empty list")
    return dict(_checked_operation(o, f"operations[{i}]") for i, o in enumerate(operations))


def load_manifest(path: Path) -> dict[str, str]:
    """The trusted documents of a manifest file; SettingsError naming the variable if bad."""
    try:
        manifest = json.loads(path.read_bytes())
        return checked_manifest(manifest)
    except OSError as error:
        raise SettingsError(VARIABLE, f"cannot read {path}: {error.strerror}") from None
    except (ValueError, RecursionError) as error:  # ManifestError, JSON, UTF-8
        problem = error if isinstance(error, ManifestError) else "not JSON"
        raise SettingsError(VARIABLE, f"{path}: {problem}") from None


def documents_for(settings: Settings) -> Documents:
    """The app's documents: trusted ones only when HARBORGRAPH_TRUSTED_DOCUMENTS names a file."""
    path = settings.trusted_documents
    return Documents(None if path is None else load_manifest(path))


def _graphql_files(paths: Iterable[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        found += sorted(path.glob("*.graphql")) if path.is_dir() else [path]
    return found


def _manifest_entry(path: Path) -> dict[str, str]:
    try:
        # Text as a browser's fetch().text() reads it (a BOM dropped): what the portal hashes.
        body = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise ManifestError(f"{path}: cannot read it as UTF-8 ({error})") from None
    try:
        operations = _operation_types(body)
    except ManifestError as error:
        raise ManifestError(f"{path}: {error}") from None
    names = [n for n in operations if n is not None]
    if len(operations) != 1 or len(names) != 1:
        raise ManifestError(f"{path}: must hold exactly one operation, with a name")
    return {"id": sha256_hex(body), "name": names[0], "type": operations[names[0]], "body": body}


def build_manifest(paths: Iterable[Path]) -> dict[str, Any]:
    """Apollo's persisted query manifest of .graphql files (a folder: its *.graphql), one
    named operation a file, ordered by name then id so that the same files give the same
    bytes."""
    entries = [_manifest_entry(p) for p in _graphql_files(paths)]
    entries.sort(key=lambda e: (e["name"], e["id"]))
    manifest = {"format": MANIFEST_FORMAT, "version": 1, "operations": entries}
    checked_manifest(manifest)
    return manifest


def manifest_json(manifest: Mapping[str, Any]) -> str:
    return json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
