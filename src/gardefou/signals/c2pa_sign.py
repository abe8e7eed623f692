"""Write a signed C2PA manifest into an image (for generators that label their output).

    key = load_signing_key("signer-chain.pem", "signer.key")          # or signing_key_from_env()
    labelled = sign_image(png_bytes, key)                             # trainedAlgorithmicMedia

The manifest holds one ``c2pa.actions.v2`` assertion: ``c2pa.created`` with IPTC digital
source type ``trainedAlgorithmicMedia`` (or the one given), the claim generator and an optional
title. The certificate chain (PEM, signer first, then its issuers) must follow the C2PA
certificate profile: not a CA, keyUsage digitalSignature, an EKU such as emailProtection or
documentSigning, and issued by a CA (a self-signed leaf is rejected). Readers report such a
manifest ``Valid`` and, unless the CA is on their trust list, ``signingCredential.untrusted``.

``generate_test_key()`` makes a throwaway CA + signer for tests and demos only.
Environment: GARDEFOU_C2PA_CERT, GARDEFOU_C2PA_KEY, GARDEFOU_C2PA_ALG (default es256),
GARDEFOU_C2PA_TSA_URL (optional RFC 3161 time-stamp authority; needs network at signing time).
"""

from __future__ import annotations

import datetime
import io
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gardefou.errors import ConfigError, ModelUnavailableError
from gardefou.media.intake import sniff_format
from gardefou.signals.provenance import IPTC_PREFIX

ALGORITHMS = ("es256", "es384", "es512", "ps256", "ps384", "ps512", "ed25519")
_MIME = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
    "TIFF": "image/tiff",
    "GIF": "image/gif",
    "HEIF": "image/heic",
    "AVIF": "image/avif",
}


@dataclass(frozen=True)
class SigningKey:
    """A PEM certificate chain (signer first) and its PEM private key."""

    cert_chain_pem: bytes
    private_key_pem: bytes = b""
    alg: str = "es256"
    tsa_url: str | None = None

    def __post_init__(self) -> None:
        if self.alg not in ALGORITHMS:
            raise ConfigError(
                f"C2PA signing algorithm {self.alg!r} unknown; use one of {', '.join(ALGORITHMS)}"
            )
        if b"BEGIN CERTIFICATE" not in self.cert_chain_pem:
            raise ConfigError("C2PA certificate chain is not PEM (no 'BEGIN CERTIFICATE')")
        if b"PRIVATE KEY" not in self.private_key_pem:
            raise ConfigError("C2PA private key is not PEM (no 'PRIVATE KEY' block)")

    def __repr__(self) -> str:  # never print the key
        return f"SigningKey(alg={self.alg!r}, tsa_url={self.tsa_url!r}, private_key=<hidden>)"


def load_signing_key(
    cert_path: str | os.PathLike[str],
    key_path: str | os.PathLike[str],
    alg: str = "es256",
    tsa_url: str | None = None,
) -> SigningKey:
    """Read a PEM chain and key from files; errors name the file and the fix."""
    out = []
    for what, path in (("certificate chain", cert_path), ("private key", key_path)):
        try:
            out.append(Path(path).read_bytes())
        except OSError as exc:
            raise ConfigError(
                f"cannot read the C2PA {what} {str(path)!r} ({exc.strerror}); "
                "check the path (GARDEFOU_C2PA_CERT / GARDEFOU_C2PA_KEY)"
            ) from None
    return SigningKey(out[0], out[1], alg.lower(), tsa_url)


def signing_key_from_env() -> SigningKey | None:
    """The key named by GARDEFOU_C2PA_CERT/KEY, or None when neither is set."""
    cert, key = os.environ.get("GARDEFOU_C2PA_CERT"), os.environ.get("GARDEFOU_C2PA_KEY")
    if not cert and not key:
        return None
    if not (cert and key):
        raise ConfigError("set both GARDEFOU_C2PA_CERT and GARDEFOU_C2PA_KEY (PEM files)")
    return load_signing_key(
        cert,
        key,
        os.environ.get("GARDEFOU_C2PA_ALG", "es256"),
        os.environ.get("GARDEFOU_C2PA_TSA_URL") or None,
    )


def _c2pa() -> Any:
    try:
        import c2pa
    except ImportError as exc:
        raise ModelUnavailableError(
            f"c2pa-python is not installed ({exc}); install it with "
            "`pip install 'gardefou[models]'`"
        ) from None
    return c2pa


def manifest_definition(
    digital_source_type: str = "trainedAlgorithmicMedia",
    claim_generator: str = "gardefou",
    version: str | None = None,
    title: str | None = None,
) -> dict[str, Any]:
    """The manifest JSON written by sign_image (pure; for inspection and tests)."""
    if version is None:
        from gardefou import __version__ as version
    dst = digital_source_type if "://" in digital_source_type else IPTC_PREFIX + digital_source_type
    action = {
        "action": "c2pa.created",
        "digitalSourceType": dst,
        "softwareAgent": {"name": claim_generator, "version": version},
    }
    manifest: dict[str, Any] = {
        "claim_generator_info": [{"name": claim_generator, "version": version}],
        "assertions": [{"label": "c2pa.actions.v2", "data": {"actions": [action]}}],
    }
    if title:
        manifest["title"] = title
    return manifest


def sign_image(
    data: bytes,
    key: SigningKey,
    *,
    digital_source_type: str = "trainedAlgorithmicMedia",
    claim_generator: str = "gardefou",
    title: str | None = None,
) -> bytes:
    """Return ``data`` with a signed C2PA manifest embedded (JPEG, PNG, WebP, ...)."""
    fmt = sniff_format(data)
    if fmt not in _MIME:
        raise ConfigError(
            f"cannot embed a C2PA manifest in {fmt or 'unknown'} data; "
            f"supported: {', '.join(_MIME)}"
        )
    c2pa = _c2pa()
    info = c2pa.C2paSignerInfo(
        getattr(c2pa.C2paSigningAlg, key.alg.upper()),
        key.cert_chain_pem,
        key.private_key_pem,
        key.tsa_url,
    )
    manifest = manifest_definition(digital_source_type, claim_generator, title=title)
    try:
        signer = c2pa.Signer.from_info(info)
        builder = c2pa.Builder(json.dumps(manifest))
        out = io.BytesIO()
        builder.sign(signer, _MIME[fmt], io.BytesIO(data), out)
    except c2pa.C2paError as exc:
        raise ConfigError(
            f"C2PA signing failed ({exc}); check that the certificate chain "
            "matches the key and follows the C2PA certificate profile"
        ) from None
    return out.getvalue()


def generate_test_key(
    common_name: str = "gardefou test signer", organization: str = "gardefou (test, untrusted)"
) -> SigningKey:
    """A fresh ES256 CA + signer chain, for tests and demos only (never trusted by readers)."""
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    except ImportError as exc:
        raise ModelUnavailableError(
            f"cryptography is not installed ({exc}); install it with "
            "`pip install 'gardefou[reports]'`"
        ) from None
    now = datetime.datetime.now(datetime.UTC)

    def name(cn: str) -> Any:
        return x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, cn),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
            ]
        )

    def usage(sign: bool, cert_sign: bool) -> Any:
        return x509.KeyUsage(
            digital_signature=sign,
            content_commitment=False,
            key_encipherment=False,
            data_encipherment=False,
            key_agreement=False,
            key_cert_sign=cert_sign,
            crl_sign=cert_sign,
            encipher_only=False,
            decipher_only=False,
        )

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = name(f"{common_name} CA")
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(usage(False, True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    leaf = (
        x509.CertificateBuilder()
        .subject_name(name(common_name))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage(True, False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    chain = leaf.public_bytes(pem) + ca.public_bytes(pem)
    private = key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return SigningKey(chain, private, "es256")
