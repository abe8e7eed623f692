"""What a gateway request brings: its bounds checked and its images (and mask) decoded safely,
before the request check sees them or anything is sent upstream."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gardefou.errors import GuardInputError
from gardefou.gateway.config import GatewayConfig
from gardefou.gateway.upstream import File
from gardefou.guard import Guard
from gardefou.media import Media, load_media


def read_inputs(
    guard: Guard,
    cfg: GatewayConfig,
    kind: str,
    images: Sequence[File],
    mask: File | None,
    history: Sequence[str],
    params: dict[str, Any],
) -> list[Media]:
    """The request's bounds (``n``, history turns, image count), then every input image and the
    mask decoded safely under the guard's media limits; the input images as Media."""
    n = params.get("n", 1)
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= cfg.max_n:
        raise GuardInputError(
            f"n={n!r}: this gateway returns 1 to {cfg.max_n} images per request; ask for fewer"
        )
    if len(history) > cfg.max_history:
        raise GuardInputError(
            f"{len(history)} history turns sent (limit {cfg.max_history}); "
            "send the most recent ones"
        )
    if kind == "edits" and not images:
        raise GuardInputError("an image edit needs at least one `image` file")
    if len(images) > cfg.max_images:
        raise GuardInputError(
            f"{len(images)} images sent (limit {cfg.max_images}); send at "
            f"most {cfg.max_images} images per edit"
        )
    media = [guard.load_images([data])[0] for _, data, _ in images]
    if mask is not None:
        check_mask(guard, mask[1], media[0] if media else None)
    return media


def check_mask(guard: Guard, data: bytes, image: Media | None) -> None:
    """A mask is an image: the same byte, pixel and frame limits and the same safe decode
    as the inputs (a bomb or a corrupt file is refused, never forwarded), and it must be
    the size of the image it masks (what the Images API requires of a mask)."""
    m = load_media(data, guard.config.media_limits, label="mask")
    if image is not None and (m.width, m.height) != (image.width, image.height):
        raise GuardInputError(
            f"the mask is {m.width}x{m.height} px but image 0 is {image.width}x"
            f"{image.height} px; send a mask of the same size as the image"
        )
