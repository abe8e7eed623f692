"""Label an allowed output with a signed C2PA manifest (EU AI Act Art. 50 marking duty).

The manifest records a ``c2pa.created`` action whose ``digitalSourceType`` is IPTC's
``trainedAlgorithmicMedia``, plus the generator's name. Signing is gardefou's one C2PA signer,
``gardefou.signals.c2pa_sign`` (offline; no timestamp authority unless ``ta_url`` is set); this
module keeps the guard's file-to-file interface (``gardefou guard-label``). The key is the
operator's: a PEM certificate chain (leaf first, the leaf must carry the digitalSignature key
usage and an extended key usage C2PA accepts, e.g. emailProtection or documentSigning) and its
private key; the algorithm follows the key unless given.
``gardefou.guard.label.make_test_certificate()`` makes a throwaway CA + leaf for tests; readers
will report such a manifest as signed by an untrusted certificate, which is expected.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gardefou.errors import ConfigError
from gardefou.signals.c2pa_sign import (
    _MIME,
    SigningKey,
    _c2pa,
    created_action,
    manifest_definition,
    sign_image,
)
from gardefou.signals.provenance import IPTC_PREFIX

TRAINED_ALGORITHMIC_MEDIA = IPTC_PREFIX + "trainedAlgorithmicMedia"


@dataclass(frozen=True)
class LabelConfig:
    cert_chain_pem: bytes
    private_key_pem: bytes
    alg: str | None = None  # None: the key's own algorithm
    generator: str = "gardefou-labelled generator"
    ta_url: str | None = None

    @classmethod
    def from_files(cls, cert: str | Path, key: str | Path, alg: str | None = None,
                   generator: str = "gardefou-labelled generator") -> LabelConfig:  # fmt: skip
        return cls(Path(cert).read_bytes(), Path(key).read_bytes(), alg, generator)

    def signing_key(self) -> SigningKey:
        alg = self.alg.lower() if self.alg else None
        return SigningKey(self.cert_chain_pem, self.private_key_pem, alg, self.ta_url)


def manifest(generator: str) -> dict[str, Any]:
    """The manifest definition: the generator created it, with ``trainedAlgorithmicMedia``."""
    return manifest_definition(
        title="AI-generated image",
        actions=[created_action("trainedAlgorithmicMedia", {"name": generator})],
    )


def label_bytes(data: bytes, mime: str, config: LabelConfig) -> bytes:
    """Return the image with a signed C2PA manifest embedded."""
    fmt = next((f for f, m in _MIME.items() if m == mime), None)
    if fmt is None:
        raise ConfigError(f"cannot embed C2PA in {mime!r}; supported: {', '.join(_MIME.values())}")
    return sign_image(
        data,
        config.signing_key(),
        title="AI-generated image",
        actions=[created_action("trainedAlgorithmicMedia", {"name": config.generator})],
    )


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
    """(cert chain PEM: leaf + CA, leaf private key PEM); ``generate_test_key``'s. Tests only."""
    from gardefou.signals.c2pa_sign import generate_test_key

    key = generate_test_key("gardefou test signer", "gardefou tests")
    return key.cert_chain_pem, key.private_key_pem
