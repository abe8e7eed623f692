"""Video intake: containers, limits before and during decoding, and the hostile corpus."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytest.importorskip("av")

from gardefou.errors import (
    ConfigError,
    CorruptMediaError,
    EmptyMediaError,
    MediaError,
    MediaTimeoutError,
    MediaTooLargeError,
    MediaTooLongError,
    UnsupportedFormatError,
)
from gardefou.media.video import VideoLimits, load_video, sniff_video
from gardefou.media.video_frames import TimeSampler, iter_frames
from gardefou.signals.vpdq import hash_video
from tests.video_support import mkv, synthetic_clip

TESTS = Path(__file__).parent


@pytest.fixture(scope="module")
def clip() -> bytes:
    return synthetic_clip(seconds=4.0, options={"movflags": "faststart"})


@pytest.mark.parametrize(
    ("container", "codec", "fmt"),
    [
        ("mp4", "libx264", "MP4"),
        ("mov", "libx264", "MOV"),
        ("webm", "libvpx-vp9", "WEBM"),
        ("mkv", "libx264", "MKV"),
    ],
)
def test_containers_decode(container: str, codec: str, fmt: str) -> None:
    data = synthetic_clip(seconds=2.0, container=container, codec=codec)
    video = load_video(data)
    assert video.format == fmt and (video.width, video.height) == (320, 240)
    assert video.fps == 15.0
    features = hash_video(video)
    assert [round(f.timestamp, 3) for f in features] == [0.0, 1.0]
    assert all(f.quality == 100 for f in features)


def test_animated_gif_and_webp(tmp_path: Path) -> None:
    from PIL import Image

    from tests.video_support import scene

    frames = [Image.fromarray(scene(t, 64, 48)) for t in (0.0, 2.5, 4.5)]
    for fmt in ("GIF", "WEBP"):
        path = tmp_path / f"a.{fmt.lower()}"
        frames[0].save(path, fmt, save_all=True, append_images=frames[1:], duration=1000, loop=0)
        video = load_video(path)
        assert video.format == fmt
        assert (video.declared_frames, video.duration) == (3, 3.0)  # counted, not decoded
        features = hash_video(video)
        assert [f.timestamp for f in features] == [0.0, 1.0, 2.0]


def test_sniffing_never_trusts_the_extension(tmp_path: Path) -> None:
    assert sniff_video(b"\x00\x00\x00\x18ftypheic") is None  # HEIF stills go to image intake
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"#EXTM3U\n#EXT-X-TARGETDURATION:1\nfile:///etc/passwd\n")
    with pytest.raises(UnsupportedFormatError, match="not a supported video"):
        load_video(path)
    with pytest.raises(EmptyMediaError):
        load_video(b"")


def test_no_secondary_opens() -> None:
    """The io_open given to FFmpeg refuses any second resource a demuxer asks for (an HLS
    segment, a QuickTime data reference): uploads are read from their bytes only."""
    from gardefou.media import video as video_mod

    with pytest.raises(PermissionError, match="read from memory only"):
        video_mod._refuse_io_open("file:///etc/passwd", 1, {})


def test_limits_before_decoding(clip: bytes) -> None:
    with pytest.raises(MediaTooLargeError, match=r"bytes \(limit 1,000\)"):
        load_video(clip, VideoLimits(max_bytes=1000))
    with pytest.raises(MediaTooLargeError, match=r"320x240 px .*limit 200 px"):
        load_video(clip, VideoLimits(max_side=200))
    with pytest.raises(MediaTooLargeError, match=r"0\.1 MP"):
        load_video(clip, VideoLimits(max_pixels=50_000))
    with pytest.raises(MediaTooLongError, match=r"declares 4\.0 s .*limit 2 s"):
        load_video(clip, VideoLimits(max_seconds=2))
    with pytest.raises(MediaTooLargeError, match=r"declares 60 frames .*limit 10"):
        load_video(clip, VideoLimits(max_frames=10))
    with pytest.raises(ConfigError, match="max_frames=0"):
        VideoLimits(max_frames=0)


def test_limits_during_decoding() -> None:
    """WebM declares no frame count: the count is enforced on the decoded frames."""
    data = synthetic_clip(seconds=2.0, container="webm", codec="libvpx-vp9")
    video = load_video(data, VideoLimits(max_frames=10))
    with pytest.raises(MediaTooLargeError, match="more than 10 frames"):
        hash_video(video)
    slow = load_video(data, VideoLimits(max_decode_seconds=1e-6))
    with pytest.raises(MediaTimeoutError, match="decoding took over"):
        hash_video(slow)


def test_time_sampler_keeps_seconds_and_scene_changes(clip: bytes) -> None:
    video = load_video(clip)
    plain = [f.timestamp for f in iter_frames(video, TimeSampler(1.0, scene=None))]
    assert plain == pytest.approx([0.0, 1.0, 2.0, 3.0])
    # the synthetic scene changes every 2 s (at 2.0, already a sampled second) and the tiles
    # drift; a tight threshold adds frames between the seconds
    dense = [f.timestamp for f in iter_frames(video, TimeSampler(1.0, scene=0.01))]
    assert len(dense) > len(plain) and set(plain) <= set(dense)


# ----- the hostile corpus ---------------------------------------------------------------------

HOSTILE = {
    "truncated": "truncated",
    "huge_declared": "huge_declared",
    "declared_over_limit": "declared_over_limit",
    "million_frames": "million_frames",
    "corrupt_packets": "corrupt_packets",
}


def _hostile_files(tmp: Path, clip: bytes) -> dict[str, Path]:
    import random

    rng = random.Random(17)
    bad = bytearray(clip)
    for _ in range(300):
        i = rng.randrange(len(clip) // 4, len(clip))
        bad[i] = rng.randrange(256)
    files = {
        "truncated": clip[: len(clip) // 2],
        "huge_declared": mkv(100_000, 100_000, 3, payload=b"\x00" * 64),
        "declared_over_limit": mkv(5000, 5000, 3, payload=b"\x00" * 64),
        "million_frames": mkv(1, 1, 1_000_000),
        "corrupt_packets": bytes(bad),
    }
    out = {}
    for name, data in files.items():
        out[name] = tmp / f"{name}.bin"
        out[name].write_bytes(data)
    return out


_CHILD = textwrap.dedent(
    """
    import json, resource, sys, time
    from gardefou.media.video import load_video
    from gardefou.signals.vpdq import hash_video
    from gardefou.errors import GardefouError
    out = {}
    for name, path in json.loads(sys.argv[1]).items():
        t = time.monotonic()
        try:
            features = hash_video(load_video(path))
            out[name] = {"ok": len(features)}
        except GardefouError as exc:
            out[name] = {"error": type(exc).__name__, "message": str(exc)}
        except Exception as exc:  # noqa: BLE001 - an untyped error is a failure
            out[name] = {"untyped": repr(exc)}
        out[name]["seconds"] = time.monotonic() - t
    # VmHWM is this process image's own peak. ru_maxrss is not: Linux carries the peak of the
    # process that forked us across exec, so a child of a grown test runner would report the
    # runner's size (1.8 GB in a full run) instead of its own.
    try:
        with open("/proc/self/status") as f:
            hwm = next(line for line in f if line.startswith("VmHWM:"))
        out["peak_rss_mb"] = int(hwm.split()[1]) / 1024
    except OSError:
        out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))
    """
)


def test_hostile_corpus_fails_clearly_fast_and_small(tmp_path: Path, clip: bytes) -> None:
    files = _hostile_files(tmp_path, clip)
    env = dict(os.environ)
    src = str(TESTS.parent / "src")
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    t = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, json.dumps({k: str(v) for k, v in files.items()})],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    total = time.monotonic() - t
    assert out["truncated"]["error"] == "CorruptMediaError"
    assert out["huge_declared"]["error"] == "CorruptMediaError"
    assert "0x0 px" in out["huge_declared"]["message"]
    assert out["declared_over_limit"]["error"] == "MediaTooLargeError"
    assert "5000x5000" in out["declared_over_limit"]["message"]
    assert out["million_frames"]["error"] == "MediaTooLargeError"
    assert "more than 40,000 frames" in out["million_frames"]["message"]
    # damaged packets: refused as corrupt (the decoder reports them), never an untyped crash
    assert out["corrupt_packets"].get("error") == "CorruptMediaError", out["corrupt_packets"]
    for name in HOSTILE:
        assert out[name]["seconds"] < 30, (name, out[name])
    assert out["peak_rss_mb"] < 600, out["peak_rss_mb"]
    assert total < 120


def test_hostile_errors_are_media_errors(clip: bytes) -> None:
    with pytest.raises(MediaError):
        hash_video(load_video(clip[: len(clip) // 3]))
    with pytest.raises(CorruptMediaError, match="0x0 px"):
        load_video(mkv(100_000, 100_000, 2, payload=b"\x00" * 16))


def test_million_frame_gif_is_refused_before_decoding() -> None:
    """Pillow decodes every GIF frame it seeks (~0.4 ms each): the blocks are counted first."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("P", (1, 1)).save(buf, "GIF")
    one = buf.getvalue()
    start = one.index(b"\x2c")  # the image descriptor
    gce = b"\x21\xf9\x04\x00\x01\x00\x00\x00"  # graphic control: 10 ms
    data = one[:start] + (gce + one[start:-1]) * 1_000_000 + b"\x3b"
    t = time.monotonic()
    with pytest.raises(MediaTooLargeError, match="declares more than 40,000 frames"):
        load_video(data)
    assert time.monotonic() - t < 5
    with pytest.raises(MediaTooLongError, match=r"declares 100\.0 s"):
        load_video(
            one[:start] + (gce + one[start:-1]) * 10_000 + b"\x3b", VideoLimits(max_seconds=60)
        )
