"""Write a signed C2PA manifest into an image: gardefou's one C2PA signer.

    key = load_signing_key("signer-chain.pem", "signer.key")          # or signing_key_from_env()
    labelled = sign_image(png_bytes, key)                             # trainedAlgorithmicMedia
    signer = C2paSigner(key); signer.sign(data, manifest_definition(actions=[...]))  # many images

The manifest holds one ``c2pa.actions.v2`` assertion: by default ``c2pa.created`` with IPTC
digital source type ``trainedAlgorithmicMedia`` (or the one given); callers that record more
(the gateway: watermarked, published) pass their action list. ``guard.label`` and
``gateway.labels`` sign through ``C2paSigner``: one implementation, one set of errors.

``C2paSigner`` keeps the native signer and the builder context (thumbnail off: a thumbnail cost
80-220 ms per image against ~1-2 ms for the signature) per thread, so a gateway signing every
image does not rebuild them each time. The algorithm follows the key (``alg=None``): Ed25519
keys sign in about half the CPU time of ES256 ones and a third of PS256 ones (measured with
benchmarks/gateway_bench.py's ``--sign-algs``), hence Ed25519 test keys.

The certificate chain (PEM, signer first, then its issuers) must follow the C2PA certificate
profile: not a CA, keyUsage digitalSignature, an EKU such as emailProtection or
documentSigning, and issued by a CA (a self-signed leaf is rejected). Readers report such a
manifest ``Valid`` and, unless the CA is on their trust list, ``signingCredential.untrusted``.

``generate_test_key()`` makes a throwaway CA + signer for tests and demos only.
Environment: GARDEFOU_C2PA_CERT, GARDEFOU_C2PA_KEY, GARDEFOU_C2PA_ALG (default: from the key),
GARDEFOU_C2PA_TSA_URL (optional RFC 3161 time-stamp authority; needs network at signing time).
"""

from __future__ import annotations

import datetime
import io
import json
import os
import threading
from dataclasses import dataclass
from functools import lru_cache
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
    alg: str | None = None  # None: the key's own algorithm (key_algorithm)
    tsa_url: str | None = None

    def __post_init__(self) -> None:
        if self.alg is not None and self.alg not in ALGORITHMS:
            raise ConfigError(
                f"C2PA signing algorithm {self.alg!r} unknown; use one of {', '.join(ALGORITHMS)}"
            )
        if b"BEGIN CERTIFICATE" not in self.cert_chain_pem:
            raise ConfigError("C2PA certificate chain is not PEM (no 'BEGIN CERTIFICATE')")
        if b"PRIVATE KEY" not in self.private_key_pem:
            raise ConfigError("C2PA private key is not PEM (no 'PRIVATE KEY' block)")
        own = key_algorithm(self.private_key_pem)
        if self.alg is None:
            object.__setattr__(self, "alg", own)
        elif self.alg != own and not (own == "ps256" and self.alg.startswith("ps")):
            raise ConfigError(
                f"C2PA signing algorithm {self.alg!r} does not fit the key, which signs "
                f"{own}; unset GARDEFOU_C2PA_ALG (the key decides) or give alg={own!r}"
            )

    def __repr__(self) -> str:  # never print the key
        return f"SigningKey(alg={self.alg!r}, tsa_url={self.tsa_url!r}, private_key=<hidden>)"


def key_algorithm(private_key_pem: bytes) -> str:
    """The C2PA algorithm a PEM private key signs with: Ed25519 -> ed25519, EC P-256/384/521 ->
    es256/384/512, RSA -> ps256 (C2PA allows RSA only with PSS). ``es256`` when the
    ``cryptography`` package is missing (the signature then tells whether it was right)."""
    try:
        from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
        from cryptography.hazmat.primitives.serialization import load_pem_private_key
    except ImportError:
        return "es256"
    try:
        key = load_pem_private_key(private_key_pem, password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigError(
            f"the C2PA private key cannot be read ({exc}); give an unencrypted PEM key "
            "(Ed25519, EC P-256/384/521 or RSA)"
        ) from None
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "ed25519"
    if isinstance(key, ec.EllipticCurvePrivateKey):
        curves = {"secp256r1": "es256", "secp384r1": "es384", "secp521r1": "es512"}
        if key.curve.name in curves:
            return curves[key.curve.name]
        raise ConfigError(f"EC curve {key.curve.name!r} is not allowed by C2PA; use P-256")
    if isinstance(key, rsa.RSAPrivateKey):
        return "ps256"
    raise ConfigError(
        f"C2PA cannot sign with a {type(key).__name__}; use an Ed25519, EC P-256 or RSA key"
    )


def load_signing_key(
    cert_path: str | os.PathLike[str],
    key_path: str | os.PathLike[str],
    alg: str | None = None,
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
    return SigningKey(out[0], out[1], alg.lower() if alg else None, tsa_url)


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
        os.environ.get("GARDEFOU_C2PA_ALG") or None,
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


def created_action(
    digital_source_type: str = "trainedAlgorithmicMedia",
    agent: dict[str, Any] | None = None,
    description: str | None = None,
) -> dict[str, Any]:
    """A ``c2pa.created`` action with an IPTC digital source type (a bare IPTC term or a URL)."""
    dst = digital_source_type if "://" in digital_source_type else IPTC_PREFIX + digital_source_type
    action: dict[str, Any] = {"action": "c2pa.created", "digitalSourceType": dst}
    if agent:
        action["softwareAgent"] = agent
    if description:
        action["description"] = description
    return action


def manifest_definition(
    digital_source_type: str = "trainedAlgorithmicMedia",
    claim_generator: str = "gardefou",
    version: str | None = None,
    title: str | None = None,
    *,
    actions: list[dict[str, Any]] | None = None,
    assertions: tuple[dict[str, Any], ...] = (),
) -> dict[str, Any]:
    """The manifest JSON a signature writes (pure; for inspection and tests): one
    ``c2pa.actions.v2`` assertion holding ``actions`` (default: ``c2pa.created`` by the claim
    generator with ``digital_source_type``), then any further ``assertions``."""
    if version is None:
        from gardefou import __version__ as version
    me = {"name": claim_generator, "version": version}
    if actions is None:
        actions = [created_action(digital_source_type, me)]
    manifest: dict[str, Any] = {
        "claim_generator_info": [me],
        "assertions": [
            {"label": "c2pa.actions.v2", "data": {"actions": actions}},
            *assertions,
        ],
    }
    if title:
        manifest["title"] = title
    return manifest


class C2paSigner:
    """Signs images with one key. The native signer and the builder context are made once per
    thread (c2pa builders are single-use; signers and contexts are not), which takes their
    cost off every image. A bad chain or key raises ConfigError at the first signature."""

    def __init__(self, key: SigningKey) -> None:
        self.key = key
        self._c2pa = _c2pa()
        self._settings = json.dumps({"builder": {"thumbnail": {"enabled": False}}})
        self._local = threading.local()

    def _native(self) -> tuple[Any, Any]:
        local = self._local
        if getattr(local, "signer", None) is None:
            c2pa, key = self._c2pa, self.key
            assert key.alg is not None  # SigningKey fills it in
            info = c2pa.C2paSignerInfo(
                getattr(c2pa.C2paSigningAlg, key.alg.upper()),
                key.cert_chain_pem,
                key.private_key_pem,
                key.tsa_url,
            )
            try:
                local.signer = c2pa.Signer.from_info(info)
            except c2pa.C2paError as exc:
                raise _signing_failed(exc) from None
            local.context = c2pa.Context(c2pa.Settings.from_json(self._settings))
        return local.signer, local.context

    def sign(self, data: bytes, manifest: dict[str, Any] | str, fmt: str | None = None) -> bytes:
        """``data`` with ``manifest`` (a definition, or its JSON) signed and embedded."""
        fmt = fmt or sniff_format(data)
        if fmt not in _MIME:
            raise ConfigError(
                f"cannot embed a C2PA manifest in {fmt or 'unknown'} data; "
                f"supported: {', '.join(_MIME)}"
            )
        c2pa = self._c2pa
        definition = manifest if isinstance(manifest, str) else json.dumps(manifest)
        signer, context = self._native()
        try:
            builder = c2pa.Builder.from_json(definition, context)
            out = io.BytesIO()
            builder.sign(signer, _MIME[fmt], io.BytesIO(data), out)
        except c2pa.C2paError as exc:
            raise _signing_failed(exc) from None
        return out.getvalue()


def _signing_failed(exc: Exception) -> ConfigError:
    return ConfigError(
        f"C2PA signing failed ({exc}); check that the certificate chain "
        "matches the key and follows the C2PA certificate profile"
    )


@lru_cache(maxsize=8)
def _signer(key: SigningKey) -> C2paSigner:
    return C2paSigner(key)


def sign_image(
    data: bytes,
    key: SigningKey,
    *,
    digital_source_type: str = "trainedAlgorithmicMedia",
    claim_generator: str = "gardefou",
    title: str | None = None,
    actions: list[dict[str, Any]] | None = None,
) -> bytes:
    """Return ``data`` with a signed C2PA manifest embedded (JPEG, PNG, WebP, ...)."""
    manifest = manifest_definition(
        digital_source_type, claim_generator, title=title, actions=actions
    )
    return _signer(key).sign(data, manifest)


def generate_test_key(
    common_name: str = "gardefou test signer",
    organization: str = "gardefou (test, untrusted)",
    alg: str = "ed25519",
) -> SigningKey:
    """A fresh CA + signer chain (signer key ``ed25519``, ``es256`` or ``ps256``; the CA is
    P-256), for tests, demos and benchmarks only (never trusted by readers)."""
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
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

    makers: dict[str, Any] = {
        "ed25519": ed25519.Ed25519PrivateKey.generate,
        "es256": lambda: ec.generate_private_key(ec.SECP256R1()),
        "ps256": lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
    }
    if alg not in makers:
        raise ConfigError(f"test keys are {', '.join(makers)}; not {alg!r}")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    key: Any = makers[alg]()
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
    return SigningKey(chain, private, alg)
