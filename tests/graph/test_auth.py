"""Access-token authentication with real keys and real signed JWTs (no PyJWT mocks)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from graph.auth import (
    MAX_TOKEN_BYTES,
    Claims,
    FileKeySource,
    InvalidToken,
    JwksKeySource,
    KeySource,
    StaticKeySource,
    VerificationKey,
    authenticate,
    key_source_from_settings,
    verifier,
    verify,
    www_authenticate,
)
from graph.keys import (
    PrivateKey,
    ensure_dev_keys,
    jwk_thumbprint,
    jwks,
    load_private_key,
    mint_token,
)
from graph.settings import JwtSettings, SettingsError
from resolvers.community import OrgRecord
from resolvers.principal import ANONYMOUS, OrganizationKind, Principal

ISSUER = "https://auth.harborgraph.test"
AUDIENCE = "harborgraph"
KID = "test-es256"
SETTINGS = JwtSettings(
    issuer=ISSUER,
    audience=AUDIENCE,
    algorithms=frozenset({"ES256"}),
    leeway_seconds=30,
    jwks_url=None,
    public_key_file=None,
)
ALL_ALGORITHMS = replace(SETTINGS, algorithms=frozenset({"ES256", "RS256", "EdDSA"}))

ORGANIZATIONS = {
    "MSCU": OrgRecord("MSCU", "MSC", OrganizationKind.CARRIER, "MSCU", None, None),
    "APMT": OrgRecord("APMT", "APM Terminals", OrganizationKind.TERMINAL, None, "USLAX", "APMT"),
}


async def lookup(code: str) -> OrgRecord | None:
    return ORGANIZATIONS.get(code)


# --------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def es256() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="module")
def rs256() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def keys(es256: ec.EllipticCurvePrivateKey) -> StaticKeySource:
    return StaticKeySource(es256.public_key(), KID)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64json(value: dict[str, Any]) -> str:
    return b64(json.dumps(value, separators=(",", ":")).encode())


def claims(**changes: Any) -> dict[str, Any]:
    """Valid RFC 9068 claims for MSCU; a change of None removes the claim."""
    now = int(time.time())
    payload: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "ops@mscu",
        "client_id": "mscu-portal",
        "iat": now,
        "exp": now + 600,
        "jti": "a1b2c3",
        "org": "MSCU",
        "scope": "vessel:read cargo:read",
    }
    payload.update(changes)
    return {k: v for k, v in payload.items() if v is not None}


def sign(
    key: PrivateKey,
    payload: dict[str, Any],
    *,
    algorithm: str = "ES256",
    kid: str | None = KID,
    typ: str | None = "at+jwt",
) -> str:
    headers: dict[str, Any] = {"typ": typ}
    if kid is not None:
        headers["kid"] = kid
    return jwt.encode(payload, key, algorithm=algorithm, headers=headers)


async def refused(token: str, keys: KeySource, settings: JwtSettings = SETTINGS) -> str:
    with pytest.raises(InvalidToken) as caught:
        await authenticate(f"Bearer {token}", verify_token=verifier(settings, keys), lookup=lookup)
    return caught.value.description


@dataclass
class CountingKeys:
    """A key source that records whether it was asked (nothing may be decoded before checks)."""

    inner: KeySource
    calls: list[str] = field(default_factory=list)

    async def signing_key(self, token: str) -> VerificationKey:
        self.calls.append(token)
        return await self.inner.signing_key(token)


# --------------------------------------------------------------------------- good tokens


async def test_a_valid_es256_token_gives_the_exact_principal(
    es256: ec.EllipticCurvePrivateKey, keys: StaticKeySource
) -> None:
    token = sign(es256, claims())

    principal = await authenticate(
        f"Bearer {token}", verify_token=verifier(SETTINGS, keys), lookup=lookup
    )

    assert principal == Principal(
        subject="ops@mscu",
        organization_code="MSCU",
        kind=OrganizationKind.CARRIER,
        scopes=frozenset({"vessel:read", "cargo:read"}),
        scac="MSCU",
        terminal_unlocode=None,
        terminal_smdg_code=None,
    )


async def test_a_terminal_token_minted_by_the_cli_carries_the_terminal_identity(
    tmp_path: Path,
) -> None:
    dev = ensure_dev_keys(tmp_path)
    source = key_source_from_settings(SETTINGS, dev)
    token = mint_token(
        load_private_key(dev.private_key_path),
        kid=dev.kid,
        issuer=ISSUER,
        audience=AUDIENCE,
        org="APMT",
        scopes=["gate:read", "cargo:read"],
    )

    principal = await authenticate(
        f"bearer  {token} ", verify_token=verifier(SETTINGS, source), lookup=lookup
    )

    assert principal == Principal(
        subject="APMT:cli",
        organization_code="APMT",
        kind=OrganizationKind.TERMINAL,
        scopes=frozenset({"gate:read", "cargo:read"}),
        scac=None,
        terminal_unlocode="USLAX",
        terminal_smdg_code="APMT",
    )


async def test_verify_returns_the_claims(
    es256: ec.EllipticCurvePrivateKey, keys: StaticKeySource
) -> None:
    payload = claims(scope=None)

    result = await verify(sign(es256, payload), settings=SETTINGS, keys=keys)

    assert result == Claims(
        subject="ops@mscu",
        organization_code="MSCU",
        scopes=frozenset(),
        client_id="mscu-portal",
        expires_at=payload["exp"],
    )


@pytest.mark.parametrize("header", [None, "", "   "])
async def test_no_token_is_anonymous(header: str | None, keys: StaticKeySource) -> None:
    principal = await authenticate(header, verify_token=verifier(SETTINGS, keys), lookup=lookup)

    assert principal is ANONYMOUS


async def test_a_token_expired_within_the_leeway_is_accepted(
    es256: ec.EllipticCurvePrivateKey, keys: StaticKeySource
) -> None:
    now = int(time.time())
    token = sign(es256, claims(iat=now - 600, exp=now - 10))

    principal = await authenticate(
        f"Bearer {token}", verify_token=verifier(SETTINGS, keys), lookup=lookup
    )

    assert principal.organization_code == "MSCU"


@pytest.mark.parametrize("typ", ["at+jwt", "application/at+jwt", "AT+JWT", "Application/At+JWT"])
async def test_the_rfc_9068_types_are_accepted_in_any_case(
    typ: str, es256: ec.EllipticCurvePrivateKey, keys: StaticKeySource
) -> None:
    claims_ = await verify(sign(es256, claims(), typ=typ), settings=SETTINGS, keys=keys)

    assert claims_.organization_code == "MSCU"


async def test_rs256_and_eddsa_tokens_are_accepted_when_allowed(
    rs256: rsa.RSAPrivateKey,
) -> None:
    ed = ed25519.Ed25519PrivateKey.generate()
    rsa_keys = StaticKeySource(rs256.public_key(), "r")
    ed_keys = StaticKeySource(ed.public_key(), "e")

    by_rsa = await verify(
        sign(rs256, claims(), algorithm="RS256", kid="r"), settings=ALL_ALGORITHMS, keys=rsa_keys
    )
    by_ed = await verify(
        sign(ed, claims(), algorithm="EdDSA", kid="e"), settings=ALL_ALGORITHMS, keys=ed_keys
    )

    assert by_rsa.subject == by_ed.subject == "ops@mscu"


# --------------------------------------------------------------------------- bad tokens


async def test_an_expired_token_is_refused(
    es256: ec.EllipticCurvePrivateKey, keys: StaticKeySource
) -> None:
    now = int(time.time())
    token = sign(es256, claims(iat=now - 600, exp=now - 31))

    assert await refused(token, keys) == "token has expired"


async def test_a_token_issued_in_the_future_is_refused(
    es256: ec.EllipticCurvePrivateKey, keys: StaticKeySource
) -> None:
    now = int(time.time())
    token = sign(es256, claims(iat=now + 120, exp=now + 600))

    assert await refused(token, keys) == "token is not yet valid"


@pytest.mark.parametrize("issuer", ["https://evil.example", ISSUER + "/", ISSUER.upper()])
async def test_a_wrong_issuer_is_refused(
    issuer: str, es256: ec.EllipticCurvePrivateKey, keys: StaticKeySource
) -> None:
    assert await refused(sign(es256, claims(iss=issuer)), keys) == "token issuer is not accepted"


@pytest.mark.parametrize("audience", ["other-api", "harborgraph2", ["other-api"]])
async def test_a_wrong_audience_is_refused(
    audience: str | list[str], es256: ec.EllipticCurvePrivateKey, keys: StaticKeySource
) -> None:
    token = sign(es256, claims(aud=audience))

    assert await refused(token, keys) == "token audience is not accepted"


async def test_alg_none_is_refused(keys: StaticKeySource) -> None:
    header = b64json({"alg": "none", "typ": "at+jwt", "kid": KID})
    token = f"{header}.{b64json(claims())}."

    assert await refused(token, keys) == "token algorithm is not allowed"


async def test_hs256_signed_with_the_public_key_is_refused(
    es256: ec.EllipticCurvePrivateKey, keys: StaticKeySource
) -> None:
    # Algorithm confusion: an attacker HMACs with the (public) verification key as secret.
    public_pem = es256.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signing_input = f"{b64json({'alg': 'HS256', 'typ': 'at+jwt', 'kid': KID})}.{b64json(claims())}"
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    token = f"{signing_input}.{b64(mac)}"

    assert await refused(token, keys) == "token algorithm is not allowed"
    assert await refused(token, keys, ALL_ALGORITHMS) == "token algorithm is not allowed"


async def test_an_rs256_token_is_refused_when_only_es256_is_allowed(
    rs256: rsa.RSAPrivateKey,
) -> None:
    keys = StaticKeySource(rs256.public_key(), KID)
    token = sign(rs256, claims(), algorithm="RS256")

    assert await refused(token, keys) == "token algorithm is not allowed"


async def test_an_allowed_algorithm_must_match_the_key_type(
    rs256: rsa.RSAPrivateKey, keys: StaticKeySource
) -> None:
    token = sign(rs256, claims(), algorithm="RS256")

    assert await refused(token, keys, ALL_ALGORITHMS) == "token algorithm does not match its key"


@pytest.mark.parametrize("typ", ["JWT", "jwt", "at+jwt2", None])
async def test_a_wrong_or_missing_type_is_refused(
    typ: str | None, es256: ec.EllipticCurvePrivateKey, keys: StaticKeySource
) -> None:
    token = sign(es256, claims(), typ=typ)

    assert await refused(token, keys) == "token type must be at+jwt"


@pytest.mark.parametrize("claim", ["sub", "exp", "iat", "iss", "aud", "org"])
async def test_a_missing_required_claim_is_refused(
    claim: str, es256: ec.EllipticCurvePrivateKey, keys: StaticKeySource
) -> None:
    token = sign(es256, claims(**{claim: None}))

    assert await refused(token, keys) == f"token lacks the required claim {claim}"


@pytest.mark.parametrize(
    ("change", "description"),
    [
        ({"org": ""}, "token claim org must be a non-empty string"),
        ({"org": 42}, "token claim org must be a non-empty string"),
        ({"sub": ""}, "token claim sub must be a non-empty string"),
        ({"sub": 7}, "token claim sub must be a string"),
        ({"scope": ["cargo:read"]}, "token claim scope must be a space-delimited string"),
        ({"client_id": 3}, "token claim client_id must be a string"),
        ({"exp": "2099999999"}, "token claim exp must be a number"),
    ],
)
async def test_claims_of_the_wrong_shape_are_refused(
    change: dict[str, Any],
    description: str,
    es256: ec.EllipticCurvePrivateKey,
    keys: StaticKeySource,
) -> None:
    assert await refused(sign(es256, claims(**change)), keys) == description


async def test_an_unknown_organization_is_refused(
    es256: ec.EllipticCurvePrivateKey, keys: StaticKeySource
) -> None:
    token = sign(es256, claims(org="NOPE"))

    assert await refused(token, keys) == "organization NOPE is not known"


async def test_a_9_kb_token_is_refused_before_decoding(
    es256: ec.EllipticCurvePrivateKey, keys: StaticKeySource
) -> None:
    token = sign(es256, claims(padding="x" * 9 * 1024))
    counting = CountingKeys(keys)
    assert len(token) > MAX_TOKEN_BYTES

    assert await refused(token, counting) == "token is larger than 8192 bytes"
    assert await refused("!" * (9 * 1024), counting) == "token is larger than 8192 bytes"
    assert counting.calls == []


async def test_a_token_of_exactly_the_limit_is_still_decoded(
    es256: ec.EllipticCurvePrivateKey, keys: StaticKeySource
) -> None:
    base = sign(es256, claims(padding=""))
    # Each 3 padding bytes grow the payload by 4 base64url characters.
    token = sign(es256, claims(padding="x" * ((MAX_TOKEN_BYTES - len(base)) // 4 * 3)))
    assert MAX_TOKEN_BYTES - 4 < len(token) <= MAX_TOKEN_BYTES

    assert (await verify(token, settings=SETTINGS, keys=keys)).organization_code == "MSCU"


async def test_a_signature_by_a_different_key_is_refused(keys: StaticKeySource) -> None:
    impostor = ec.generate_private_key(ec.SECP256R1())

    assert await refused(sign(impostor, claims()), keys) == "token signature is invalid"


async def test_a_tampered_payload_is_refused(
    es256: ec.EllipticCurvePrivateKey, keys: StaticKeySource
) -> None:
    header, _, signature = sign(es256, claims()).split(".")
    forged = f"{header}.{b64json(claims(org='APMT'))}.{signature}"

    assert await refused(forged, keys) == "token signature is invalid"


async def test_an_unknown_kid_is_refused_by_a_single_key_source(
    es256: ec.EllipticCurvePrivateKey, keys: StaticKeySource
) -> None:
    assert await refused(sign(es256, claims(), kid="other"), keys) == "token key id is not known"
    # A token without a kid is verified against the one key.
    assert (await verify(sign(es256, claims(), kid=None), settings=SETTINGS, keys=keys)).subject


@pytest.mark.parametrize(
    "token", ["abc", "a.b.c", "....", "é.é.é", "eyJhbGciOiJFUzI1NiJ9.e30", "eyJ9.e30.e30"]
)
async def test_garbage_is_refused_as_malformed(token: str, keys: StaticKeySource) -> None:
    assert await refused(token, keys) == "token is malformed"


@pytest.mark.parametrize(
    ("header", "description"),
    [
        ("Basic dXNlcjpwYXNz", "Authorization header must use the Bearer scheme"),
        ("Token abc", "Authorization header must use the Bearer scheme"),
        ("abc", "Authorization header must use the Bearer scheme"),
        ("Bearer", "Authorization header must hold exactly one Bearer token"),
        ("Bearer a b", "Authorization header must hold exactly one Bearer token"),
    ],
)
async def test_an_authorization_header_that_is_not_one_bearer_token_is_refused(
    header: str, description: str, keys: StaticKeySource
) -> None:
    with pytest.raises(InvalidToken) as caught:
        await authenticate(header, verify_token=verifier(SETTINGS, keys), lookup=lookup)

    assert caught.value.description == description


async def test_the_description_never_echoes_the_token(
    es256: ec.EllipticCurvePrivateKey, keys: StaticKeySource
) -> None:
    now = int(time.time())
    token = sign(es256, claims(iat=now - 600, exp=now - 300))

    with pytest.raises(InvalidToken) as caught:
        await authenticate(f"Bearer {token}", verify_token=verifier(SETTINGS, keys), lookup=lookup)

    assert token not in str(caught.value)
    assert token.split(".")[1] not in www_authenticate(caught.value)
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


# --------------------------------------------------------------------------- WWW-Authenticate


def test_www_authenticate_is_an_rfc_6750_challenge() -> None:
    assert www_authenticate(InvalidToken("token has expired")) == (
        'Bearer error="invalid_token", error_description="token has expired"'
    )


def test_www_authenticate_keeps_the_quoted_string_well_formed() -> None:
    value = www_authenticate(InvalidToken('organization a"b\\c\n is not known'))

    assert value == (
        'Bearer error="invalid_token", error_description="organization a\'b?c? is not known"'
    )


# --------------------------------------------------------------------------- key sources


async def test_file_key_source_uses_the_thumbprint_as_kid(
    tmp_path: Path, es256: ec.EllipticCurvePrivateKey
) -> None:
    path = tmp_path / "public.pem"
    path.write_bytes(
        es256.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    source = FileKeySource(path)
    kid = jwk_thumbprint(es256.public_key())

    assert (await verify(sign(es256, claims(), kid=kid), settings=SETTINGS, keys=source)).subject
    assert await refused(sign(es256, claims(), kid=KID), source) == "token key id is not known"


def test_key_source_from_settings_prefers_jwks_then_file_then_dev_key(tmp_path: Path) -> None:
    dev = ensure_dev_keys(tmp_path)
    with_file = replace(SETTINGS, public_key_file=dev.public_key_path)
    with_jwks = replace(with_file, jwks_url="https://idp.example/jwks.json")

    assert isinstance(key_source_from_settings(with_jwks, dev), JwksKeySource)
    assert isinstance(key_source_from_settings(with_file, dev), FileKeySource)
    dev_source = key_source_from_settings(SETTINGS, dev)
    assert isinstance(dev_source, StaticKeySource)
    assert dev_source.kid == dev.kid
    with pytest.raises(SettingsError, match="HARBORGRAPH_JWT_JWKS_URL"):
        key_source_from_settings(SETTINGS, None)
    with pytest.raises(SettingsError) as caught:
        key_source_from_settings(replace(SETTINGS, public_key_file=tmp_path / "nope.pem"), None)
    assert caught.value.variable == "HARBORGRAPH_JWT_PUBLIC_KEY_FILE"
    assert str(caught.value).endswith("nope.pem: no such file")


class JwksServer:
    """A JWKS endpoint on 127.0.0.1 that counts how often it is fetched."""

    def __init__(self, document: dict[str, Any] | bytes) -> None:
        self.document = document
        self.requests = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests += 1
                document = server.document
                body = document if isinstance(document, bytes) else json.dumps(document).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/.well-known/jwks.json"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> JwksServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def jwks_server(es256: ec.EllipticCurvePrivateKey, no_proxy: None) -> Iterator[JwksServer]:
    other = ed25519.Ed25519PrivateKey.generate().public_key()
    document = jwks(es256.public_key(), KID)
    document["keys"].append(jwks(other, "ed-1")["keys"][0])
    with JwksServer(document) as server:
        yield server


async def test_a_token_is_verified_through_a_jwks_url_fetched_once(
    es256: ec.EllipticCurvePrivateKey, jwks_server: JwksServer
) -> None:
    source = JwksKeySource(jwks_server.url, cache_seconds=60)

    first = await authenticate(
        f"Bearer {sign(es256, claims())}", verify_token=verifier(SETTINGS, source), lookup=lookup
    )
    second = await authenticate(
        f"Bearer {sign(es256, claims(org='APMT'))}",
        verify_token=verifier(SETTINGS, source),
        lookup=lookup,
    )

    assert first.organization_code == "MSCU"
    assert second.kind is OrganizationKind.TERMINAL
    assert jwks_server.requests == 1


async def test_jwks_refuses_an_unknown_kid_a_missing_kid_and_a_kid_of_another_algorithm(
    es256: ec.EllipticCurvePrivateKey, jwks_server: JwksServer
) -> None:
    source = JwksKeySource(jwks_server.url)

    assert await refused(sign(es256, claims(), kid="rotated-away"), source) == (
        "token key id is not known"
    )
    assert await refused(sign(es256, claims(), kid=None), source) == (
        "token header lacks the key id (kid)"
    )
    assert await refused(sign(es256, claims(), kid="ed-1"), source, ALL_ALGORITHMS) == (
        "token algorithm does not match its key"
    )
    # The unknown kid did not hammer the endpoint (PyJWKClient's refresh cooldown).
    assert jwks_server.requests == 1


async def test_an_unreachable_jwks_url_refuses_the_token(
    es256: ec.EllipticCurvePrivateKey, no_proxy: None
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    source = JwksKeySource(f"http://127.0.0.1:{port}/jwks.json", timeout_seconds=2)

    assert await refused(sign(es256, claims()), source) == "token signing keys are unavailable"


@pytest.mark.parametrize("body", [b"<html>oops</html>", b"[]", b'{"keys": []}'])
async def test_a_broken_jwks_endpoint_refuses_the_token(
    body: bytes, es256: ec.EllipticCurvePrivateKey, no_proxy: None
) -> None:
    with JwksServer(body) as server:
        source = JwksKeySource(server.url)

        assert await refused(sign(es256, claims()), source) == "token signing keys are unavailable"
