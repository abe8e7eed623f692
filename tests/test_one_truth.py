"""Each shared truth lives in one module and the others read it, so two copies cannot drift."""

from __future__ import annotations


def test_one_nudity_ranking():
    from gardefou.guard import images
    from gardefou.media import video_scan
    from gardefou.policy import facts
    from gardefou.signals import nudity_levels

    assert nudity_levels.LEVEL_RANK == {"none": 0, "suggestive": 1, "explicit": 2}
    assert images.NUDITY_LEVEL is nudity_levels.LEVEL_RANK
    assert video_scan.LEVEL_RANK is nudity_levels.LEVEL_RANK
    assert facts.LEVELS is nudity_levels.LEVELS
