"""Media intake: bytes or a path in, a decoded, size-bounded image out, or a typed error."""

from gardefou.media.intake import Limits, Media, load_media, sniff_format

__all__ = ["Limits", "Media", "load_media", "sniff_format"]
