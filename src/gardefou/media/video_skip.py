"""vPDQ's sampling without decoding the frames it neither hashes nor needs.

At one hash a second nearly all of vPDQ's time is decoding (29 frames of 30 are decoded only to
be counted). An H.264 frame that no other frame references (``nal_ref_idc`` 0, most B-frames)
can be left undecoded when it is not sampled: nothing else depends on its pixels. FFmpeg does
this when ``skip_frame`` is ``NONREF``, which is set per packet here -- ``DEFAULT`` for the packet
of a sampled frame, ``NONREF`` for the others -- so every sampled frame and every reference frame
is decoded exactly as in a full decode (the same bits: ``tests/test_video_vpdq.py``).

Frame numbers must still be the reference's (the n-th frame the decoder outputs, in display
order). They come from the packets instead: all packets are demuxed first (cheap), and a frame's
number is the rank of its timestamp among them. That holds when every packet is one frame with
its own timestamp; anything else -- a packet without a timestamp, two with one, a decoded frame
whose timestamp no packet has, a sampled frame the decoder did not output, frames out of order --
raises ``SkipUnsafe`` and the caller decodes every frame instead (``video_frames.iter_frames``).
Limits apply as in the full decode: the frame count (on the packets, before decoding), the
duration (on every packet's time), the frame size (on every decoded frame) and the decode time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from gardefou.errors import CorruptMediaError, MediaTooLargeError
from gardefou.media.video import Video, av_module, check_duration, check_size
from gardefou.media.video_frames import Frame, _Clock, _reason, _rgb

#: codecs whose decoder honours ``skip_frame`` per packet and were checked bit for bit
CODECS = frozenset({"h264"})


class SkipUnsafe(Exception):
    """This stream's frames cannot be numbered from its packets: decode every frame."""


def can_skip(video: Video) -> bool:
    return video.codec in CODECS and bool(video.fps) and video.format not in ("GIF", "WEBP")


def iter_sampled(
    video: Video,
    every: int,
    size: tuple[int, int] | None,
    stamp: Callable[[int], float],
) -> Iterator[Frame]:
    """Frames number 0, ``every``, 2 x ``every``... as RGB (see the module docstring); raises
    ``SkipUnsafe`` when frame numbers cannot be trusted, MediaErrors as the full decode does."""
    av = av_module()
    limits, where = video.limits, video.source or "<bytes>"
    clock = _Clock(limits, where)
    with clock:
        container = video.open_container()
    with container:
        stream = container.streams.video[0]
        stream.thread_type = "NONE"  # skip_frame must apply to the packet being sent
        tb = stream.time_base
        with clock:
            try:
                packets = [p for p in container.demux(stream) if p.size]
            except av.error.FFmpegError as exc:
                raise CorruptMediaError(
                    f"{where}: {video.format}/{video.codec} stream is damaged ({_reason(exc)}); "
                    "re-encode the video"
                ) from None
        if len(packets) > limits.max_frames:
            raise MediaTooLargeError(
                f"{where}: more than {limits.max_frames:,} frames (limit "
                f"{limits.max_frames:,}); raise VideoLimits.max_frames"
            )
        pts = [p.pts for p in packets]
        if not pts or any(t is None for t in pts) or len(set(pts)) != len(pts) or tb is None:
            raise SkipUnsafe("packets without distinct timestamps")
        start = min(pts)
        for t in pts:
            check_duration(max(0.0, float((t - start) * tb)), limits, where, "declares")
        rank = {t: i for i, t in enumerate(sorted(pts))}
        wanted = {t for t, i in rank.items() if i % every == 0}
        cc = stream.codec_context
        out = _Numbering(rank, wanted, size, stamp, video, where)
        for packet in packets:
            cc.skip_frame = "DEFAULT" if packet.pts in wanted else "NONREF"
            with clock:
                try:
                    decoded = packet.decode()
                except av.error.FFmpegError as exc:
                    raise CorruptMediaError(
                        f"{where}: {video.format}/{video.codec} stream is damaged near frame "
                        f"{rank[packet.pts]} ({_reason(exc)}); re-encode the video"
                    ) from None
            yield from out.emit(decoded)
        cc.skip_frame = "DEFAULT"
        with clock:
            try:
                tail = cc.decode(None)  # drain the decoder's reorder buffer
            except av.error.FFmpegError as exc:
                raise CorruptMediaError(
                    f"{where}: {video.format}/{video.codec} stream is damaged at its end "
                    f"({_reason(exc)}); re-encode the video"
                ) from None
        yield from out.emit(tail)
    if out.seen != len(wanted):
        raise SkipUnsafe(f"{len(wanted) - out.seen} sampled frame(s) not output by the decoder")


class _Numbering:
    """Decoded frames -> their reference frame numbers; the sampled ones as ``Frame``."""

    def __init__(self, rank: dict[int, int], wanted: set[int], size: tuple[int, int] | None,
                 stamp: Callable[[int], float], video: Video, where: str) -> None:  # fmt: skip
        self.rank, self.wanted, self.size, self.stamp = rank, wanted, size, stamp
        self.limits, self.where = video.limits, where
        self.last, self.seen = -1, 0

    def emit(self, decoded: Iterable[Any]) -> Iterator[Frame]:
        for frame in decoded:
            check_size(frame.width, frame.height, self.limits, self.where, "decodes")
            index = self.rank.get(frame.pts)
            if index is None:
                raise SkipUnsafe(f"a decoded frame's timestamp {frame.pts} is no packet's")
            if index <= self.last:
                raise SkipUnsafe("frames came out of display order")
            self.last = index
            if frame.pts in self.wanted:
                self.seen += 1
                turn = round(float(frame.rotation or 0) / 90.0) * 90 % 360
                yield Frame(index, self.stamp(index), _rgb(frame, self.size), turn)


__all__ = ["CODECS", "SkipUnsafe", "can_skip", "iter_sampled"]
