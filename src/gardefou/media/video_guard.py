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
from gardefou.media.video import Video
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
    from gardefou.guard.guard import validate_prompt
    from gardefou.guard.output import decide_output

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


__all__ = ["check_output_clip"]
