"""Bad tokens over HTTP: 401 with `WWW-Authenticate`, and no data at all in the body."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from graph.keys import ensure_dev_keys, load_private_key, mint_token
from graph.settings import Settings
from tests.conftest import Api, Tokens

QUERY = "{ me { scopes } vessels(first: 1) { edges { node { imo } } } }"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _signed(settings: Settings, **overrides: object) -> str:
    keys = ensure_dev_keys(settings.data_dir)
    options: dict[str, object] = {
        "kid": keys.kid,
        "issuer": settings.jwt.issuer,
        "audience": settings.jwt.audience,
        "org": "MSCU",
        "scopes": ["cargo:read"],
    }
    options.update(overrides)
    return mint_token(load_private_key(keys.private_key_path), **options)  # type: ignore[arg-type]


def _claims(settings: Settings) -> dict[str, object]:
    now = int(time.time())
    return {
        "iss": settings.jwt.issuer,
        "aud": settings.jwt.audience,
        "sub": "MSCU:forged",
        "iat": now,
        "exp": now + 600,
        "org": "MSCU",
        "scope": "cargo:read cargo:commercial",
    }


def _alg_none(settings: Settings) -> str:
    header = _b64(json.dumps({"alg": "none", "typ": "at+jwt"}).encode())
    return f"{header}.{_b64(json.dumps(_claims(settings)).encode())}."


def _hs256_with_public_key(settings: Settings) -> str:
    # Algorithm confusion: the public key's PEM used as an HMAC secret.
    keys = ensure_dev_keys(settings.data_dir)
    secret = keys.public_key_path.read_bytes()
    header = _b64(json.dumps({"alg": "HS256", "typ": "at+jwt", "kid": keys.kid}).encode())
    payload = _b64(json.dumps(_claims(settings)).encode())
    signature = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(signature)}"


def _other_key(settings: Settings) -> str:
    keys = ensure_dev_keys(settings.data_dir)
    stranger = ec.generate_private_key(ec.SECP256R1())
    return mint_token(
        stranger,
        kid=keys.kid,
        issuer=settings.jwt.issuer,
        audience=settings.jwt.audience,
        org="MSCU",
        scopes=["cargo:read"],
    )


CASES: list[tuple[str, Callable[[Settings], str], str]] = [
    (
        "expired",
        lambda s: _signed(s, now=int(time.time()) - 7200, ttl_seconds=600),
        "token has expired",
    ),
    (
        "wrong issuer",
        lambda s: _signed(s, issuer="https://idp.example"),
        "token issuer is not accepted",
    ),
    (
        "wrong audience",
        lambda s: _signed(s, audience="another-api"),
        "token audience is not accepted",
    ),
    ("alg none", _alg_none, "token algorithm is not allowed"),
    ("HS256 with the public key", _hs256_with_public_key, "token algorithm is not allowed"),
    ("unknown org", lambda s: _signed(s, org="NOPE"), "organization NOPE is not known"),
    ("9 KB", lambda s: _signed(s, scopes=["x" * 9000]), "token is larger than 8192 bytes"),
    ("other key", _other_key, "token signature is invalid"),
]


@pytest.mark.parametrize(("case", "make", "description"), CASES, ids=[c[0] for c in CASES])
async def test_bad_token_is_401_with_no_data(
    api: Api,
    test_settings: Settings,
    case: str,
    make: Callable[[Settings], str],
    description: str,
) -> None:
    response = await api.post(QUERY, token=make(test_settings))
    assert response.status_code == 401, case
    assert response.headers["www-authenticate"] == (
        f'Bearer error="invalid_token", error_description="{description}"'
    )
    body = response.json()
    assert body == {"errors": [{"message": description, "extensions": {"code": "UNAUTHENTICATED"}}]}


async def test_good_token_for_contrast(api: Api, test_settings: Settings) -> None:
    data = await api.data(QUERY, token=_signed(test_settings))
    assert data["me"] == {"scopes": ["cargo:read"]}


async def test_a_trucker_is_never_given_commercial_data(
    api: Api, test_settings: Settings, tokens: Tokens
) -> None:
    trucker, _ = tokens.partner("TRUCKER")
    token = _signed(test_settings, org=trucker, scopes=["cargo:read", "cargo:commercial"])
    data = await api.data("{ me { scopes } }", token=token)
    assert data == {"me": {"scopes": ["cargo:read"]}}


async def test_only_the_port_authority_reads_the_audit_trail(
    api: Api, test_settings: Settings, tokens: Tokens
) -> None:
    customs, _ = tokens.partner("CUSTOMS")
    authority, _ = tokens.partner("PORT_AUTHORITY")
    for org, expected in ((customs, []), (authority, ["audit:read"])):
        token = _signed(test_settings, org=org, scopes=["audit:read"])
        assert await api.data("{ me { scopes } }", token=token) == {"me": {"scopes": expected}}
