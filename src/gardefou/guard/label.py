"""Label an allowed output with a signed C2PA manifest (EU AI Act Art. 50 marking duty).

The manifest records a ``c2pa.created`` action whose ``digitalSourceType`` is IPTC's
``trainedAlgorithmicMedia``, plus the generator's name. Signing uses c2pa-python's
``Builder`` + ``Signer.from_info(C2paSignerInfo(alg, cert_chain_pem, key_pem, ta_url))``, all
offline (no timestamp authority unless ``ta_url`` is set). The key is the operator's: a PEM
certificate chain (leaf first, the leaf must carry the digitalSignature key usage and an
extended key usage C2PA accepts, e.g. emailProtection or documentSigning) and its private key.
``gardefou.guard.label.make_test_certificate()`` makes a throwaway CA + leaf for tests; readers
will report such a manifest as signed by an untrusted certificate, which is expected.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gardefou.errors import ConfigError, ModelUnavailableError

TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
_MIME = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "TIFF": "image/tiff",
         "AVIF": "image/avif", "HEIF": "image/heif", "GIF": "image/gif"}  # fmt: skip


@dataclass(frozen=True)
class LabelConfig:
    cert_chain_pem: bytes
    private_key_pem: bytes
    alg: str = "es256"
    generator: str = "gardefou-labelled generator"
    ta_url: str | None = None

    @classmethod
    def from_files(cls, cert: str | Path, key: str | Path, alg: str = "es256",
                   generator: str = "gardefou-labelled generator") -> LabelConfig:  # fmt: skip
        return cls(Path(cert).read_bytes(), Path(key).read_bytes(), alg, generator)


def _c2pa() -> Any:
    try:
        import c2pa
    except ImportError as exc:
        raise ModelUnavailableError(
            "c2pa-python is not installed; pip install 'gardefou[models]' to label outputs"
        ) from exc
    return c2pa


def manifest(generator: str) -> dict[str, Any]:
    return {
        "claim_generator_info": [{"name": "gardefou", "version": "0.1"}],
        "title": "AI-generated image",
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {
                    "actions": [
                        {
                            "action": "c2pa.created",
                            "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA,
                            "softwareAgent": {"name": generator},
                        }
                    ]
                },
            }
        ],
    }


def label_bytes(data: bytes, mime: str, config: LabelConfig) -> bytes:
    """Return the image with a signed C2PA manifest embedded."""
    c2pa = _c2pa()
    alg = getattr(c2pa.C2paSigningAlg, config.alg.upper(), None)
    if alg is None:
        raise ConfigError(f"signing algorithm {config.alg!r} unknown; use es256, es384, es512, "
                          "ps256, ps384, ps512 or ed25519")  # fmt: skip
    info = c2pa.C2paSignerInfo(alg, config.cert_chain_pem, config.private_key_pem,
                               config.ta_url.encode() if config.ta_url else None)  # fmt: skip
    try:
        signer = c2pa.Signer.from_info(info)
        builder = c2pa.Builder(json.dumps(manifest(config.generator)))
        out = io.BytesIO()
        builder.sign(signer, mime, io.BytesIO(data), out)
    except c2pa.C2paError as exc:
        raise ConfigError(f"C2PA signing failed: {exc}; check that the certificate chain "
                          "(leaf first) matches the key and the algorithm") from exc  # fmt: skip
    return out.getvalue()


def label_file(source: str | Path, dest: str | Path, config: LabelConfig) -> dict[str, Any]:
    from gardefou.media import load_media

    media = load_media(source)
    mime = _MIME.get(media.format)
    if mime is None:
        raise ConfigError(f"{source}: cannot embed C2PA in {media.format}; use JPEG or PNG")
    signed = label_bytes(media.data, mime, config)
    Path(dest).write_bytes(signed)
    return {"source": str(source), "dest": str(dest), "bytes": len(signed),
            "digital_source_type": TRAINED_ALGORITHMIC_MEDIA}  # fmt: skip


def read_manifest(data: bytes, mime: str) -> dict[str, Any]:
    """The active manifest store as a dict (for checks and tests)."""
    c2pa = _c2pa()
    reader = c2pa.Reader(mime, io.BytesIO(data))
    result: dict[str, Any] = json.loads(reader.json())
    return result


def make_test_certificate() -> tuple[bytes, bytes]:
    """(cert chain PEM: leaf + CA, leaf private key PEM), P-256, valid one day. Tests only."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "gardefou test CA"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "gardefou tests"),
        ]
    )
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                       False), critical=True)
          .sign(ca_key, hashes.SHA256()))  # fmt: skip
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "gardefou test signer"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "gardefou tests"),
        ]
    )
    leaf = (x509.CertificateBuilder().subject_name(name).issuer_name(ca_name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False,
                                         False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca_key.public_key()), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))  # fmt: skip
    pem = serialization.Encoding.PEM
    chain = leaf.public_bytes(pem) + ca.public_bytes(pem)
    key_pem = key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())  # fmt: skip
    return chain, key_pem
