"""The development key pair, JWK rendering and token minting (real keys, real JWTs)."""

from __future__ import annotations

import re
import stat
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from graph.keys import (
    DevKeys,
    KeyFileError,
    PublicKey,
    ensure_dev_keys,
    jwk_thumbprint,
    jwks,
    load_private_key,
    load_public_key,
    mint_token,
    public_jwk,
)

# Example keys of RFC 7517 appendix A.1, RFC 7638 section 3.1, RFC 8037 appendix A.2-A.3.
RFC_EC = {
    "kty": "EC",
    "crv": "P-256",
    "x": "MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4",
    "y": "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM",
}
RFC_RSA = {
    "kty": "RSA",
    "n": (
        "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc"
        "_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR"
        "0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTW"
        "hAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
    ),
    "e": "AQAB",
}
RFC_EC_THUMBPRINT = "cn-I_WNMClehiVp51i_0VpOENW1upEerA8sEam5hn-s"
RFC_RSA_THUMBPRINT = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
RFC_OKP = {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
RFC_OKP_THUMBPRINT = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
BASE64URL = re.compile(r"^[A-Za-z0-9_-]+$")


def _public(jwk: dict[str, str]) -> PublicKey:
    key: Any = jwt.PyJWK.from_dict(jwk).key
    assert isinstance(key, PublicKey)
    return key


def _pem(key: ec.EllipticCurvePrivateKey, path: Path) -> Path:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


# --------------------------------------------------------------------------- dev key pair


def test_ensure_dev_keys_creates_a_p256_pair_with_a_private_file_only_the_owner_reads(
    tmp_path: Path,
) -> None:
    keys = ensure_dev_keys(tmp_path / "data")

    assert keys.private_key_path.parent == tmp_path / "data" / "keys"
    assert keys.public_key_path.parent == tmp_path / "data" / "keys"
    assert stat.S_IMODE(keys.private_key_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(keys.private_key_path.parent.stat().st_mode) == 0o700
    private_key = load_private_key(keys.private_key_path)
    public_key = load_public_key(keys.public_key_path)
    assert isinstance(private_key, ec.EllipticCurvePrivateKey)
    assert isinstance(private_key.curve, ec.SECP256R1)
    assert public_key == private_key.public_key()
    assert keys.kid == jwk_thumbprint(public_key)
    assert BASE64URL.match(keys.kid)
    assert len(keys.kid) == 43  # base64url of a SHA-256 digest, unpadded
    assert [p.name for p in sorted(keys.private_key_path.parent.iterdir())] == sorted(
        [keys.private_key_path.name, keys.public_key_path.name]
    )


def test_ensure_dev_keys_reuses_the_existing_pair(tmp_path: Path) -> None:
    first = ensure_dev_keys(tmp_path)
    private_pem = first.private_key_path.read_bytes()
    public_pem = first.public_key_path.read_bytes()

    second = ensure_dev_keys(tmp_path)

    assert second == first
    assert second.private_key_path.read_bytes() == private_pem
    assert second.public_key_path.read_bytes() == public_pem


def test_ensure_dev_keys_restores_a_missing_public_file_and_tight_permissions(
    tmp_path: Path,
) -> None:
    first = ensure_dev_keys(tmp_path)
    public_pem = first.public_key_path.read_bytes()
    first.public_key_path.unlink()
    first.private_key_path.chmod(0o644)

    second = ensure_dev_keys(tmp_path)

    assert second == first
    assert second.public_key_path.read_bytes() == public_pem
    assert stat.S_IMODE(second.private_key_path.stat().st_mode) == 0o600


def test_ensure_dev_keys_gives_each_data_directory_its_own_key(tmp_path: Path) -> None:
    assert ensure_dev_keys(tmp_path / "a").kid != ensure_dev_keys(tmp_path / "b").kid


# --------------------------------------------------------------------------- JWK / JWKS


def test_jwks_of_a_p256_key_is_exact() -> None:
    key = _public(RFC_EC)

    assert jwks(key, "k1") == {
        "keys": [
            {
                "kty": "EC",
                "crv": "P-256",
                "x": RFC_EC["x"],
                "y": RFC_EC["y"],
                "use": "sig",
                "alg": "ES256",
                "kid": "k1",
            }
        ]
    }


def test_jwks_of_a_generated_key_round_trips_through_pyjwt() -> None:
    key = ec.generate_private_key(ec.SECP256R1()).public_key()

    (jwk,) = jwks(key, "k2")["keys"]

    assert sorted(jwk) == ["alg", "crv", "kid", "kty", "use", "x", "y"]
    assert len(jwk["x"]) == len(jwk["y"]) == 43  # 32 bytes, leading zeros kept
    assert jwt.PyJWK.from_dict(jwk).key == key


def test_public_jwk_of_an_rsa_key_is_exact() -> None:
    assert public_jwk(_public(RFC_RSA), "r1") == {
        "kty": "RSA",
        "n": RFC_RSA["n"],
        "e": "AQAB",
        "use": "sig",
        "alg": "RS256",
        "kid": "r1",
    }


def test_public_jwk_of_an_ed25519_key_is_exact() -> None:
    assert public_jwk(_public(RFC_OKP), "o1") == {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": RFC_OKP["x"],
        "use": "sig",
        "alg": "EdDSA",
        "kid": "o1",
    }


def test_thumbprints_match_the_rfc_examples() -> None:
    assert jwk_thumbprint(_public(RFC_EC)) == RFC_EC_THUMBPRINT
    assert jwk_thumbprint(_public(RFC_RSA)) == RFC_RSA_THUMBPRINT
    assert jwk_thumbprint(_public(RFC_OKP)) == RFC_OKP_THUMBPRINT


def test_public_jwk_refuses_curves_other_than_p256() -> None:
    key = ec.generate_private_key(ec.SECP384R1()).public_key()

    with pytest.raises(ValueError, match="P-256"):
        public_jwk(key, "k")


# --------------------------------------------------------------------------- loading


def test_load_public_key_reads_a_pem_and_refuses_what_it_cannot_use(tmp_path: Path) -> None:
    missing = tmp_path / "missing.pem"
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a key")
    p384 = tmp_path / "p384.pem"
    p384.write_bytes(
        ec.generate_private_key(ec.SECP384R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )

    for path, problem in [
        (missing, "no such file"),
        (garbage, "not a PEM public key or certificate"),
        (p384, "EC keys must use the P-256 curve, not secp384r1"),
    ]:
        with pytest.raises(KeyFileError) as caught:
            load_public_key(path)
        assert str(caught.value) == f"{path}: {problem}"
        assert caught.value.path == path


def test_load_private_key_refuses_encrypted_keys(tmp_path: Path) -> None:
    path = tmp_path / "encrypted.pem"
    path.write_bytes(
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        )
    )

    with pytest.raises(KeyFileError, match="encrypted private keys are not supported"):
        load_private_key(path)


def test_load_private_key_round_trips(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())

    loaded = load_private_key(_pem(key, tmp_path / "k.pem"))

    assert isinstance(loaded, ec.EllipticCurvePrivateKey)
    assert loaded.private_numbers() == key.private_numbers()


# --------------------------------------------------------------------------- minting


def test_mint_token_header_and_claims_are_exact(tmp_path: Path) -> None:
    keys: DevKeys = ensure_dev_keys(tmp_path)
    private_key = load_private_key(keys.private_key_path)

    token = mint_token(
        private_key,
        kid=keys.kid,
        issuer="https://auth.example",
        audience="harborgraph",
        org="MSCU",
        scopes=["vessel:read", "cargo:read", "vessel:read", "cargo:commercial"],
        ttl_seconds=600,
        now=1_700_000_000,
    )

    assert jwt.get_unverified_header(token) == {"alg": "ES256", "typ": "at+jwt", "kid": keys.kid}
    claims = jwt.decode(
        token,
        load_public_key(keys.public_key_path),
        algorithms=["ES256"],
        audience="harborgraph",
        issuer="https://auth.example",
        options={"verify_exp": False, "verify_iat": False},
    )
    jti = claims.pop("jti")
    assert claims == {
        "iss": "https://auth.example",
        "aud": "harborgraph",
        "sub": "MSCU:cli",
        "client_id": "harborgraph-cli",
        "iat": 1_700_000_000,
        "exp": 1_700_000_600,
        "org": "MSCU",
        "scope": "cargo:commercial cargo:read vessel:read",
    }
    assert isinstance(jti, str)
    assert BASE64URL.match(jti)
    assert len(jti) >= 20


def test_mint_token_uses_a_fresh_jti_the_given_subject_and_the_clock() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    kwargs: dict[str, Any] = {
        "kid": "k",
        "issuer": "i",
        "audience": "a",
        "org": "APMT",
        "scopes": "gate:read  cargo:read gate:read",  # one string is split, not iterated
        "subject": "alice@apmt",
        "client_id": "portal",
    }

    first = jwt.decode(mint_token(key, **kwargs), options={"verify_signature": False})
    second = jwt.decode(mint_token(key, **kwargs), options={"verify_signature": False})

    assert first["jti"] != second["jti"]
    assert first["sub"] == "alice@apmt"
    assert first["client_id"] == "portal"
    assert first["scope"] == "cargo:read gate:read"
    assert first["exp"] - first["iat"] == 3600


@pytest.mark.parametrize(
    ("key", "algorithm"),
    [
        (rsa.generate_private_key(public_exponent=65537, key_size=2048), "RS256"),
        (ed25519.Ed25519PrivateKey.generate(), "EdDSA"),
        (ec.generate_private_key(ec.SECP256R1()), "ES256"),
    ],
)
def test_mint_token_algorithm_follows_the_key(
    key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey,
    algorithm: str,
) -> None:
    token = mint_token(key, kid="k", issuer="i", audience="a", org="MSCU", scopes=[])

    assert jwt.get_unverified_header(token)["alg"] == algorithm
    claims = jwt.decode(token, key.public_key(), algorithms=[algorithm], audience="a")
    assert claims["scope"] == ""


def test_mint_token_refuses_bad_arguments() -> None:
    key = ec.generate_private_key(ec.SECP256R1())

    with pytest.raises(ValueError, match="org must not be empty"):
        mint_token(key, kid="k", issuer="i", audience="a", org="", scopes=[])
    with pytest.raises(ValueError, match="ttl_seconds must be positive"):
        mint_token(key, kid="k", issuer="i", audience="a", org="X", scopes=[], ttl_seconds=0)
    with pytest.raises(ValueError, match="P-256"):
        mint_token(
            ec.generate_private_key(ec.SECP384R1()),
            kid="k",
            issuer="i",
            audience="a",
            org="X",
            scopes=[],
        )
