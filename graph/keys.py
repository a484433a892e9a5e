"""Signing keys: the development key pair, JWK/JWKS rendering and token minting.

Verification lives in `graph.auth`; this module only makes and shows keys and
mints RFC 9068 access tokens for the demo (`harborgraph token`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

PublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey | ed25519.Ed25519PublicKey
PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey

KEYS_DIR = "keys"
PRIVATE_KEY_FILE = "dev-es256-private.pem"
PUBLIC_KEY_FILE = "dev-es256-public.pem"
MIN_RSA_BITS = 2048
ACCESS_TOKEN_TYPE = "at+jwt"  # noqa: S105 - RFC 9068 media type, not a secret


class KeyFileError(ValueError):
    """A key file is missing, unreadable or holds an unsupported key; the message names it."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path


@dataclass(frozen=True)
class DevKeys:
    private_key_path: Path
    public_key_path: Path
    kid: str


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _int_bytes(value: int, length: int | None = None) -> bytes:
    size = length if length is not None else max(1, (value.bit_length() + 7) // 8)
    return value.to_bytes(size, "big")


def algorithm_for(key: PublicKey | PrivateKey) -> str:
    """The one JWS algorithm a key is used with: ES256, RS256 or EdDSA."""
    if isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey):
        if not isinstance(key.curve, ec.SECP256R1):
            raise ValueError(f"EC keys must use the P-256 curve, not {key.curve.name}")
        return "ES256"
    if isinstance(key, rsa.RSAPublicKey | rsa.RSAPrivateKey):
        if key.key_size < MIN_RSA_BITS:
            raise ValueError(f"RSA keys must have at least {MIN_RSA_BITS} bits")
        return "RS256"
    if isinstance(key, ed25519.Ed25519PublicKey | ed25519.Ed25519PrivateKey):
        return "EdDSA"
    raise ValueError(f"unsupported key type {type(key).__name__}")


def _required_members(public_key: PublicKey) -> dict[str, str]:
    """The RFC 7638 required JWK members of a public key (no kid, use or alg)."""
    algorithm_for(public_key)  # refuse unsupported curves and short RSA keys
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        numbers = public_key.public_numbers()
        return {
            "crv": "P-256",
            "kty": "EC",
            "x": _b64url(_int_bytes(numbers.x, 32)),
            "y": _b64url(_int_bytes(numbers.y, 32)),
        }
    if isinstance(public_key, rsa.RSAPublicKey):
        rsa_numbers = public_key.public_numbers()
        return {
            "e": _b64url(_int_bytes(rsa_numbers.e)),
            "kty": "RSA",
            "n": _b64url(_int_bytes(rsa_numbers.n)),
        }
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"crv": "Ed25519", "kty": "OKP", "x": _b64url(raw)}


def jwk_thumbprint(public_key: PublicKey) -> str:
    """RFC 7638 thumbprint: base64url(SHA-256(canonical JSON of the required members))."""
    canonical = json.dumps(_required_members(public_key), separators=(",", ":"), sort_keys=True)
    return _b64url(hashlib.sha256(canonical.encode("utf-8")).digest())


def public_jwk(public_key: PublicKey, kid: str) -> dict[str, str]:
    """The public key as a JWK for signature verification (RFC 7517/7518/8037)."""
    return {
        **_required_members(public_key),
        "use": "sig",
        "alg": algorithm_for(public_key),
        "kid": kid,
    }


def jwks(public_key: PublicKey, kid: str) -> dict[str, list[dict[str, str]]]:
    """A JSON Web Key Set holding one public key."""
    return {"keys": [public_jwk(public_key, kid)]}


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise KeyFileError(path, "no such file") from None
    except OSError as error:
        raise KeyFileError(path, f"cannot be read ({error.strerror})") from None


def _checked(path: Path, key: Any) -> None:
    try:
        algorithm_for(key)
    except ValueError as error:
        raise KeyFileError(path, str(error)) from None


def load_private_key(path: Path) -> PrivateKey:
    """A PEM private key (PKCS#8 or traditional, unencrypted): EC P-256, RSA or Ed25519."""
    data = _read(path)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise KeyFileError(path, "encrypted private keys are not supported") from None
    except (ValueError, UnsupportedAlgorithm):
        raise KeyFileError(path, "not a PEM private key") from None
    if not isinstance(key, PrivateKey):
        raise KeyFileError(path, f"unsupported key type {type(key).__name__}")
    _checked(path, key)
    return key


def load_public_key(path: Path) -> PublicKey:
    """A PEM public key (SubjectPublicKeyInfo) or certificate: EC P-256, RSA or Ed25519."""
    data = _read(path)
    try:
        if b"-----BEGIN CERTIFICATE-----" in data:
            key: Any = x509.load_pem_x509_certificate(data).public_key()
        else:
            key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm):
        raise KeyFileError(path, "not a PEM public key or certificate") from None
    if not isinstance(key, PublicKey):
        raise KeyFileError(path, f"unsupported key type {type(key).__name__}")
    _checked(path, key)
    return key


def _temporary(path: Path, data: bytes, mode: int) -> Path:
    """`data` written and synced to a new file beside `path`, with `mode`."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return temporary


def _replace(path: Path, data: bytes, mode: int) -> None:
    """Write `path` with `data` and `mode` atomically, over whatever it held."""
    temporary = _temporary(path, data, mode)
    try:
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _write_once(path: Path, data: bytes, mode: int) -> None:
    """Create `path` with `data` and `mode` atomically; keep it if another process won."""
    temporary = _temporary(path, data, mode)
    try:
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        except OSError:  # filesystems without hard links
            if not path.exists():
                os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _public_pem(public_key: PublicKey) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def ensure_dev_keys(data_dir: Path) -> DevKeys:
    """The development ES256 key pair in `data_dir/keys/`: generated once, then reused."""
    keys_dir = data_dir / KEYS_DIR
    keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    private_path = keys_dir / PRIVATE_KEY_FILE
    public_path = keys_dir / PUBLIC_KEY_FILE
    if not private_path.exists():
        generated = ec.generate_private_key(ec.SECP256R1())
        pem = generated.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        _write_once(private_path, pem, 0o600)
    if private_path.stat().st_mode & 0o077:
        private_path.chmod(0o600)
    private_key = load_private_key(private_path)
    if not isinstance(private_key, ec.EllipticCurvePrivateKey):
        raise KeyFileError(private_path, "the development key must be an EC P-256 key")
    public_key = private_key.public_key()
    public_pem = _public_pem(public_key)
    if not public_path.exists() or public_path.read_bytes() != public_pem:
        # Replaced in one rename: a replica starting beside this one never finds it missing.
        _replace(public_path, public_pem, 0o644)
    return DevKeys(private_path, public_path, jwk_thumbprint(public_key))


def _scope(scopes: Iterable[str]) -> str:
    items = scopes.split() if isinstance(scopes, str) else scopes
    return " ".join(sorted({part for item in items for part in item.split()}))


def mint_token(
    private_key: PrivateKey,
    *,
    kid: str,
    issuer: str,
    audience: str,
    org: str,
    scopes: Iterable[str],
    ttl_seconds: int = 3600,
    subject: str | None = None,
    now: int | None = None,
    client_id: str = "harborgraph-cli",
) -> str:
    """An RFC 9068 JWT access token for organization `org` with the given scopes."""
    if not org:
        raise ValueError("org must not be empty")
    if ttl_seconds <= 0:
        raise ValueError("ttl_seconds must be positive")
    issued_at = int(time.time()) if now is None else now
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "sub": subject if subject is not None else f"{org}:cli",
        "client_id": client_id,
        "iat": issued_at,
        "exp": issued_at + ttl_seconds,
        "jti": secrets.token_urlsafe(16),
        "org": org,
        "scope": _scope(scopes),
    }
    return jwt.encode(
        claims,
        private_key,
        algorithm=algorithm_for(private_key),
        headers={"typ": ACCESS_TOKEN_TYPE, "kid": kid},
    )
