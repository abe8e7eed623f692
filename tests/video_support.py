"""Video fixtures made by the tests: benign synthetic clips, re-encodes, and hostile files.

Nothing here is downloaded: clips are drawn with numpy (gradients and moving shapes) and
encoded with PyAV; hostile Matroska files are written byte by byte (``mkv``) so they can declare
what no encoder would produce (100000x100000 frames, a million 1x1 frames).
"""

from __future__ import annotations

import io
import struct
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

# ----- a minimal Matroska writer ----------------------------------------------------------


def _vint(n: int) -> bytes:
    """EBML size: the shortest variable-length integer holding ``n``."""
    for length in range(1, 9):
        if n < (1 << (7 * length)) - 1:
            return (n | (1 << (7 * length))).to_bytes(length, "big")
    raise ValueError(n)


def _el(element_id: int, payload: bytes) -> bytes:
    return (
        element_id.to_bytes((element_id.bit_length() + 7) // 8, "big")
        + _vint(len(payload))
        + payload
    )


def _uint(element_id: int, value: int) -> bytes:
    return _el(element_id, value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big"))


def mkv(
    width: int,
    height: int,
    frames: int,
    payload: bytes = b"\x00",
    codec: bytes = b"V_UNCOMPRESSED",
    fourcc: bytes = b"Y800",
    frame_us: int = 1,
) -> bytes:
    """A Matroska file declaring ``width``x``height`` frames, with ``frames`` SimpleBlocks of
    ``payload``, one every ``frame_us`` microseconds (TimecodeScale 1 µs)."""
    header = _el(0x1A45DFA3, _el(0x4282, b"matroska") + _uint(0x4287, 4) + _uint(0x4285, 2))
    info = _el(0x1549A966, _uint(0x2AD7B1, 1000))  # TimecodeScale: 1000 ns
    video = _el(0xE0, _uint(0xB0, width) + _uint(0xBA, height) + _el(0x2EB524, fourcc))
    track = _el(0xAE, _uint(0xD7, 1) + _uint(0x73C5, 1) + _uint(0x83, 1) + _el(0x86, codec) + video)
    body = [info, _el(0x1654AE6B, track)]
    per_cluster = 30_000  # SimpleBlock timecodes are int16 relative to the cluster
    for start in range(0, frames, per_cluster):
        blocks = (
            b"".join(
                _el(0xA3, b"\x81" + struct.pack(">h", (i - start) * frame_us) + b"\x80" + payload)
                for i in range(start, min(frames, start + per_cluster))
            )
            if frame_us * per_cluster < 32768
            else b"".join(
                _el(0xA3, b"\x81" + struct.pack(">h", 0) + b"\x80" + payload)
                for i in range(start, min(frames, start + per_cluster))
            )
        )
        body.append(_el(0x1F43B675, _uint(0xE7, start * frame_us) + blocks))
    # Segment of unknown size (as a live stream writes it)
    return header + b"\x18\x53\x80\x67" + b"\x01\xff\xff\xff\xff\xff\xff\xff" + b"".join(body)


# ----- benign clips and re-encodes (PyAV) ---------------------------------------------------


def scene(t: float, width: int, height: int, seed: int = 0) -> np.ndarray:
    """A benign frame at time ``t``: a grid of coloured tiles that drifts sideways, plus a bright
    bar that moves down; the scene changes every 2 seconds (``seed`` picks an unrelated family
    of scenes). Tiles give PDQ its texture (quality 100, not the ~20 of smooth gradients)."""
    rng = np.random.default_rng(seed * 1000 + int(t // 2))
    tiles = rng.integers(0, 256, (12, 16, 3), dtype=np.uint8)
    img = np.repeat(np.repeat(tiles, -(-height // 12), axis=0), -(-width // 16), axis=1)
    img = np.roll(img[:height, :width], int(t * 2) % width, axis=1).copy()
    row = int((t % 2) / 2 * (height // 10))
    img[row : row + 8] = 255
    return img


def encode(
    frames: list[np.ndarray] | np.ndarray,
    fps: int = 15,
    container: str = "mp4",
    codec: str = "libx264",
    bitrate: int | None = None,
    options: dict[str, str] | None = None,
) -> bytes:
    import tempfile

    fmt = {"mp4": "mp4", "mov": "mov", "webm": "webm", "mkv": "matroska"}[container]
    # a real file: movflags=faststart rewrites it in a second pass
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"clip.{container}"
        _encode_to(path, fmt, frames, fps, codec, bitrate, options)
        return path.read_bytes()


def _encode_to(path, fmt, frames, fps, codec, bitrate, options) -> None:  # type: ignore[no-untyped-def]
    with av.open(str(path), "w", format=fmt, options=options or {}) as out:
        h, w = frames[0].shape[:2]
        s = out.add_stream(codec, rate=fps)
        s.width, s.height, s.pix_fmt = w, h, "yuv420p"
        if bitrate:
            s.bit_rate = bitrate
        s.codec_context.time_base = Fraction(1, fps)
        s.thread_count = 1
        for i, arr in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(arr), format="rgb24")
            frame.pts = i
            out.mux(s.encode(frame))
        out.mux(s.encode(None))


def synthetic_clip(
    seconds: float = 6.0,
    fps: int = 15,
    size: tuple[int, int] = (320, 240),
    seed: int = 0,
    bars: int = 0,
    **kw: object,
) -> bytes:
    """A benign clip; ``bars`` adds black bars of that many rows above and below."""
    w, h = size
    frames = []
    for i in range(int(seconds * fps)):
        img = scene(i / fps, w, h - 2 * bars, seed)
        if bars:
            img = np.pad(img, ((bars, bars), (0, 0), (0, 0)))
        frames.append(img)
    return encode(frames, fps, **kw)  # type: ignore[arg-type]


def decode_all(data: bytes) -> tuple[list[np.ndarray], int]:
    with av.open(io.BytesIO(data)) as c:
        s = c.streams.video[0]
        fps = round(float(s.average_rate))
        return [f.to_ndarray(format="rgb24") for f in c.decode(s)], fps


def reencode(
    data: bytes,
    *,
    scale: float | None = None,
    crop_rows: int = 0,
    bitrate: int | None = None,
    trim: float = 0.0,
) -> bytes:
    """The same video resized, with ``crop_rows`` rows cut from top and bottom, at another
    bitrate, or with the first ``trim`` share of its frames cut."""
    frames, fps = decode_all(data)
    if trim:
        frames = frames[int(len(frames) * trim) :]
    if crop_rows:
        frames = [f[crop_rows : f.shape[0] - crop_rows] for f in frames]
    if scale:
        from PIL import Image

        h, w = frames[0].shape[:2]
        size = (int(w * scale) // 2 * 2, int(h * scale) // 2 * 2)
        frames = [
            np.asarray(Image.fromarray(f).resize(size, Image.Resampling.BILINEAR)) for f in frames
        ]
    return encode(frames, fps, bitrate=bitrate)


def write(tmp: Path, name: str, data: bytes) -> Path:
    path = tmp / name
    path.write_bytes(data)
    return path
