"""Authentication: an RFC 9068 JWT access token in, a Principal out.

No token is the anonymous principal. Anything wrong with a token raises
InvalidToken, which the HTTP layer turns into a 401 with
`WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750), never a partial
answer. Checks run cheapest first and nothing is decoded before the size cap;
the organization is looked up only once the signature and claims are good.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Protocol

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from jwt.exceptions import InvalidJTIError, InvalidSubjectError

from graph.keys import (
    DevKeys,
    KeyFileError,
    PublicKey,
    algorithm_for,
    jwk_thumbprint,
    load_public_key,
)
from graph.settings import PREFIX, JwtSettings, SettingsError
from resolvers.community import OrgRecord
from resolvers.principal import ANONYMOUS, Principal
from schema.scopes import effective_scopes

log = logging.getLogger(__name__)

MAX_TOKEN_BYTES = 8192
MAX_CLAIM_LENGTH = 256
ACCESS_TOKEN_TYPES = frozenset({"at+jwt", "application/at+jwt"})  # RFC 9068 section 2.1
REQUIRED_CLAIMS = ("exp", "iat", "iss", "aud", "sub")
JWKS_CACHE_SECONDS = 300
JWKS_TIMEOUT_SECONDS = 5.0
_MAX_DESCRIPTION = 200
# RFC 6750 section 3: error_description is %x20-21 / %x23-5B / %x5D-7E.
_NOT_DESCRIPTION_CHAR = re.compile(r"[^\x20-\x21\x23-\x5b\x5d-\x7e]")

VerificationKey = (
    ec.EllipticCurvePublicKey | rsa.RSAPublicKey | ed25519.Ed25519PublicKey | ed448.Ed448PublicKey
)
# The only key types each allowed algorithm may be verified with (no algorithm confusion).
_KEY_TYPES: Mapping[str, tuple[type[Any], ...]] = {
    "ES256": (ec.EllipticCurvePublicKey,),
    "RS256": (rsa.RSAPublicKey,),
    "EdDSA": (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey),
}


class InvalidToken(Exception):
    """A bearer token was refused; `description` says why, without echoing the token."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


@dataclass(frozen=True)
class Claims:
    subject: str
    organization_code: str
    scopes: frozenset[str]
    client_id: str | None
    expires_at: int


class OrganizationLookup(Protocol):
    """Finds a `community.organization` by code (provided by `resolvers/`)."""

    async def __call__(self, code: str) -> OrgRecord | None: ...


# --------------------------------------------------------------------------- key sources


class KeySource(Protocol):
    """Where the key that verifies a token comes from."""

    async def signing_key(self, token: str) -> VerificationKey:
        """The public key for this token (chosen by its `kid`); InvalidToken if none."""
        ...


def _header(token: str) -> dict[str, Any]:
    try:
        return jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise InvalidToken("token is malformed") from None


def _kid(token: str) -> str | None:
    kid = _header(token).get("kid")
    if kid is not None and not isinstance(kid, str):
        raise InvalidToken("token is malformed")
    return kid


class StaticKeySource:
    """One public key already in memory (e.g. the development key) and its key id."""

    def __init__(self, public_key: PublicKey, kid: str) -> None:
        algorithm_for(public_key)  # refuse unsupported curves and short RSA keys
        self.public_key = public_key
        self.kid = kid

    async def signing_key(self, token: str) -> VerificationKey:
        kid = _kid(token)
        if kid is not None and kid != self.kid:
            raise InvalidToken("token key id is not known")
        return self.public_key


class FileKeySource(StaticKeySource):
    """One public key from a PEM file; its key id is `kid` or else its RFC 7638 thumbprint."""

    def __init__(self, public_key_path: Path, kid: str | None = None) -> None:
        public_key = load_public_key(public_key_path)
        super().__init__(public_key, kid or jwk_thumbprint(public_key))
        self.path = public_key_path


class JwksKeySource:
    """Keys from a JWKS URL through PyJWKClient, which caches the key set.

    PyJWKClient does blocking HTTP, so a fetch runs in a worker thread; a `kid`
    found in the still-fresh cached key set is served without leaving the loop.
    An unknown `kid` triggers at most one refetch per cooldown (PyJWKClient's).
    """

    def __init__(
        self,
        url: str,
        cache_seconds: float = JWKS_CACHE_SECONDS,
        *,
        timeout_seconds: float = JWKS_TIMEOUT_SECONDS,
    ) -> None:
        self.url = url
        self.client = jwt.PyJWKClient(
            url, cache_jwk_set=True, lifespan=cache_seconds, timeout=timeout_seconds
        )

    def _cached(self, kid: str) -> jwt.PyJWK | None:
        cache = self.client.jwk_set_cache
        key_set = cache.get() if cache is not None else None
        if key_set is None:
            return None
        for key in key_set.keys:
            if key.key_id == kid and key.public_key_use in ("sig", None):
                return key
        return None

    def _fetch(self, kid: str) -> jwt.PyJWK:
        try:
            return self.client.get_signing_key(kid)
        except jwt.PyJWKClientConnectionError as error:
            log.warning("JWKS %s could not be fetched: %s", self.url, error)
            raise InvalidToken("token signing keys are unavailable") from None
        except jwt.PyJWKClientError as error:
            if "Unable to find a signing key" in str(error):
                raise InvalidToken("token key id is not known") from None
            log.warning("JWKS %s is unusable: %s", self.url, error)
            raise InvalidToken("token signing keys are unavailable") from None
        except (jwt.PyJWKSetError, jwt.PyJWKError, ValueError, OSError) as error:
            # PyJWK errors, a body that is not JSON, a connection dropped mid-read.
            log.warning("JWKS %s is unusable: %s", self.url, error)
            raise InvalidToken("token signing keys are unavailable") from None

    async def signing_key(self, token: str) -> VerificationKey:
        header = _header(token)
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise InvalidToken("token header lacks the key id (kid)")
        jwk = self._cached(kid)
        if jwk is None:
            jwk = await asyncio.to_thread(self._fetch, kid)
        if jwk.algorithm_name != header.get("alg"):
            raise InvalidToken("token algorithm does not match its key")
        key = jwk.key
        if not isinstance(key, VerificationKey):
            raise InvalidToken("token key is not an accepted public key")
        return key


def key_source_from_settings(jwt_settings: JwtSettings, dev_keys: DevKeys | None) -> KeySource:
    """The JWKS URL if set, else the public key file, else the development key."""
    if jwt_settings.jwks_url is not None:
        return JwksKeySource(jwt_settings.jwks_url)
    if jwt_settings.public_key_file is not None:
        try:
            return FileKeySource(jwt_settings.public_key_file)
        except KeyFileError as error:
            raise SettingsError(PREFIX + "JWT_PUBLIC_KEY_FILE", str(error)) from None
    if dev_keys is not None:
        return StaticKeySource(load_public_key(dev_keys.public_key_path), dev_keys.kid)
    raise SettingsError(
        PREFIX + "JWT_JWKS_URL",
        f"no key to verify tokens with: set it or {PREFIX}JWT_PUBLIC_KEY_FILE",
    )


# --------------------------------------------------------------------------- verification


def _refusal(error: jwt.PyJWTError) -> InvalidToken:
    """The InvalidToken for a PyJWT error (most specific classes first)."""
    if isinstance(error, jwt.ExpiredSignatureError):
        return InvalidToken("token has expired")
    if isinstance(error, jwt.ImmatureSignatureError):
        return InvalidToken("token is not yet valid")
    if isinstance(error, jwt.InvalidIssuerError):
        return InvalidToken("token issuer is not accepted")
    if isinstance(error, jwt.InvalidAudienceError):
        return InvalidToken("token audience is not accepted")
    if isinstance(error, jwt.MissingRequiredClaimError):
        return InvalidToken(f"token lacks the required claim {error.claim}")
    if isinstance(error, jwt.InvalidIssuedAtError):
        return InvalidToken("token claim iat must be a number")
    if isinstance(error, InvalidSubjectError):
        return InvalidToken("token claim sub must be a string")
    if isinstance(error, InvalidJTIError):
        return InvalidToken("token claim jti must be a string")
    if isinstance(error, jwt.InvalidAlgorithmError):
        return InvalidToken("token algorithm is not allowed")
    if isinstance(error, jwt.InvalidSignatureError):
        return InvalidToken("token signature is invalid")
    if isinstance(error, jwt.InvalidKeyError):
        return InvalidToken("token key is not acceptable")
    return InvalidToken("token is malformed")


def _numeric_date(payload: Mapping[str, Any], name: str) -> int:
    value = payload[name]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidToken(f"token claim {name} must be a number")
    return int(value)


def _non_empty_string(payload: Mapping[str, Any], name: str) -> str:
    value = payload.get(name)
    if value is None:
        raise InvalidToken(f"token lacks the required claim {name}")
    if not isinstance(value, str) or not value.strip():
        raise InvalidToken(f"token claim {name} must be a non-empty string")
    if not value.isprintable() or len(value) > MAX_CLAIM_LENGTH:
        # Control characters (a NUL) would only fail later, in the database lookup.
        raise InvalidToken(f"token claim {name} must be printable text of at most 256 characters")
    return value


def _claims(payload: Mapping[str, Any]) -> Claims:
    _numeric_date(payload, "iat")
    scope = payload.get("scope", "")
    if not isinstance(scope, str):
        raise InvalidToken("token claim scope must be a space-delimited string")
    client_id = payload.get("client_id")
    if client_id is not None and not isinstance(client_id, str):
        raise InvalidToken("token claim client_id must be a string")
    return Claims(
        subject=_non_empty_string(payload, "sub"),
        organization_code=_non_empty_string(payload, "org"),
        scopes=frozenset(scope.split()),
        client_id=client_id,
        expires_at=_numeric_date(payload, "exp"),
    )


def _allowed_algorithm(header: Mapping[str, Any], settings: JwtSettings) -> str:
    algorithm = header.get("alg")
    if not isinstance(algorithm, str) or algorithm not in settings.algorithms:
        raise InvalidToken("token algorithm is not allowed")
    if algorithm not in _KEY_TYPES:  # never HS*/none, whatever the settings say
        raise InvalidToken("token algorithm is not allowed")
    return algorithm


def _check_type(header: Mapping[str, Any]) -> None:
    token_type = header.get("typ")
    if not isinstance(token_type, str) or token_type.lower() not in ACCESS_TOKEN_TYPES:
        raise InvalidToken("token type must be at+jwt")


def _check_key(algorithm: str, key: object) -> None:
    if not isinstance(key, _KEY_TYPES[algorithm]):
        raise InvalidToken("token algorithm does not match its key")
    if isinstance(key, ec.EllipticCurvePublicKey) and not isinstance(key.curve, ec.SECP256R1):
        raise InvalidToken("token algorithm does not match its key")


async def verify(token: str, *, settings: JwtSettings, keys: KeySource) -> Claims:
    """Verify an access token's size, header, signature and claims; InvalidToken if bad."""
    if len(token.encode("utf-8", "surrogatepass")) > MAX_TOKEN_BYTES:
        raise InvalidToken(f"token is larger than {MAX_TOKEN_BYTES} bytes")
    if not token.isascii():
        raise InvalidToken("token is malformed")
    header = _header(token)
    algorithm = _allowed_algorithm(header, settings)
    _check_type(header)
    key = await keys.signing_key(token)
    _check_key(algorithm, key)
    try:
        payload = jwt.decode(
            token,
            key,
            algorithms=[algorithm],
            audience=settings.audience,
            issuer=settings.issuer,
            leeway=settings.leeway_seconds,
            options={
                "require": list(REQUIRED_CLAIMS),
                "verify_signature": True,
                "verify_exp": True,
                "verify_iat": True,
                "verify_nbf": True,
                "verify_iss": True,
                "verify_aud": True,
                "verify_sub": True,
                "verify_jti": True,
                "enforce_minimum_key_length": True,
            },
        )
    except jwt.PyJWTError as error:
        raise _refusal(error) from None
    return _claims(payload)


# --------------------------------------------------------------------------- principal


def bearer_token(authorization: str) -> str:
    parts = authorization.split()
    if parts[0].lower() != "bearer":
        raise InvalidToken("Authorization header must use the Bearer scheme")
    if len(parts) != 2:
        raise InvalidToken("Authorization header must hold exactly one Bearer token")
    return parts[1]


# Verifies one token: `verifier(...)`, or the app's cache of verified tokens (graph.verified).
Verify = Callable[[str], Awaitable[Claims]]


def verifier(settings: JwtSettings, keys: KeySource) -> Verify:
    """`verify` with these settings and keys."""
    return partial(verify, settings=settings, keys=keys)


async def authenticate(
    authorization: str | None, *, verify_token: Verify, lookup: OrganizationLookup
) -> Principal:
    """The Principal for an Authorization header value: ANONYMOUS without one."""
    if authorization is None or not authorization.strip():
        return ANONYMOUS
    claims = await verify_token(bearer_token(authorization))
    organization = await lookup(claims.organization_code)
    if organization is None:
        code = claims.organization_code[:64]
        raise InvalidToken(f"organization {code} is not known")
    if organization.suspended:
        raise InvalidToken("organization suspended")
    return Principal(
        subject=claims.subject,
        organization_code=organization.code,
        kind=organization.kind,
        scopes=effective_scopes(organization.kind, claims.scopes),
        scac=organization.scac,
        terminal_unlocode=organization.terminal_unlocode,
        terminal_smdg_code=organization.terminal_smdg_code,
    )


def www_authenticate(error: InvalidToken) -> str:
    """The RFC 6750 `WWW-Authenticate` value for a refused token."""
    description = error.description.replace('"', "'")
    description = _NOT_DESCRIPTION_CHAR.sub("?", description)[:_MAX_DESCRIPTION]
    return f'Bearer error="invalid_token", error_description="{description}"'
