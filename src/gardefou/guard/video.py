"""The guard's output check on a generated clip: every sampled frame is checked as a generated
image would be (``guard.output.decide_output``: sexualized and the same person as an input
photo, or a named real person, or a minor -> refuse), and the clip takes the most severe frame's
decision, its reasons prefixed with the frame's time.

Fail closed: a clip that cannot be decoded raises its MediaError (the caller refuses the output);
a frame whose signals are unavailable gets the guard's own fail-closed decision, and the most
severe frame wins, so it is never outweighed by clean frames.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from gardefou.decision import SEVERITY, Decision, Reason, video_content_type
from gardefou.guard.guard import validate_prompt
from gardefou.guard.output import decide_output
from gardefou.media.intake import Media
from gardefou.media.video import Video, VideoLimits, load_video
from gardefou.media.video_frames import TimeSampler, iter_frames
from gardefou.media.video_scan import frame_media


def check_output_clip(
    guard: Any,
    clip: Video,
    request: str | None = None,
    inputs: Sequence[Any] = (),
    every: float = 1.0,
    scene: float | None = 0.25,
) -> Decision:
    """The guard's decision for a generated clip (``inputs``: the request's images, as for
    ``Guard.check_output``)."""
    in_media = guard.load_images(list(inputs))
    text = None if request is None else validate_prompt(request, guard.config.max_prompt_chars)
    worst: tuple[int, float, Decision] | None = None
    for frame in iter_frames(clip, TimeSampler(every, scene)):
        decision = decide_output(guard, frame_media(clip, frame), in_media, text)
        rank = SEVERITY[decision.action]
        if worst is None or rank > worst[0]:
            worst = (rank, frame.timestamp, decision)
    if worst is None:  # iter_frames raises on a clip without frames; this is a guard rail
        raise AssertionError("a decoded clip yielded no frame")
    _, t, decision = worst
    reasons = tuple(
        dataclasses.replace(r, message=f"at {t:.1f}s: {r.message}") for r in decision.reasons
    ) or (Reason("clip_checked", f"frame at {t:.1f}s decided"),)
    decision = dataclasses.replace(decision, reasons=reasons)
    if guard.audit is not None:
        guard.audit.record("output", text or "", [*in_media], decision)
    return video_content_type(decision)


def check_output_media(
    guard: Any,
    output: Any,
    request: str | None = None,
    inputs: Sequence[Any] = (),
    video_limits: VideoLimits | None = None,
) -> Decision:
    """The guard's output check for what a generator returned, image or clip: a clip (MP4,
    MOV, WebM, Matroska, told by its first bytes) is probed under ``video_limits`` and checked
    frame by frame against the inputs (``check_output_clip``); anything else goes to
    ``Guard.check_output``. The CLI's ``guard-output`` and ``POST /v1/guard/output`` use it."""
    from gardefou.media.video_items import default_video_limits, is_video

    if isinstance(output, Video):
        return check_output_clip(guard, output, request, inputs)
    if isinstance(output, Media) or not is_video(output):
        return guard.check_output(output, request, inputs)
    limits = video_limits or default_video_limits(guard.config.media_limits)
    return check_output_clip(guard, load_video(output, limits), request, inputs)


__all__ = ["check_output_clip", "check_output_media"]
