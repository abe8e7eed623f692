"""What identity /5 (chip and mirror averaged, fixed length) changes on ORL against /4's raw
network output: pair decisions that differ at each version's threshold, and CPU per face.

    .venv/bin/python benchmarks/identity_mirror.py [--data ../shared/data/faces-orl]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from identity_roc import REPO, SHARED_ROOT, load_set, pair_distances

sys.path.insert(0, str(REPO / "src"))
from gardefou.media import load_media
from gardefou.signals import get_signal
from gardefou.signals.identity import DEFAULT_THRESHOLD

#: /4's threshold on the raw network output
THRESHOLD_V4 = 0.51


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=str(SHARED_ROOT / "data" / "faces-orl"))
    args = ap.parse_args()
    people_list, _, pngs = load_set(Path(args.data))
    people = np.array(people_list)
    faces, ident = get_signal("faces"), get_signal("identity")
    chips = []
    for png in pngs:
        media = load_media(png)
        chips.append(ident.crop_chip(media, faces.detect(media))[0])  # type: ignore[attr-defined]
    batch = np.stack(chips)
    net = ident.model().encoder
    d4, same = pair_distances(np.asarray(net(batch), np.float64), people)
    d5, _ = pair_distances(ident.encode(batch), people)  # type: ignore[attr-defined]
    a, b = d4 <= THRESHOLD_V4, d5 <= DEFAULT_THRESHOLD
    moved = a != b
    print(f"ORL pair decisions, /4 at {THRESHOLD_V4} vs /5 at {DEFAULT_THRESHOLD}: "
          f"{int(moved.sum())} of {len(a)} differ; same-person {int(moved[same].sum())} "
          f"({int((b & ~a)[same].sum())} now accepted), different-person "
          f"{int(moved[~same].sum())} ({int((b & ~a)[~same].sum())} now accepted)")  # fmt: skip
    # a template stored by /4 against a /5 query of another photo (templates hold no photo, so
    # they cannot be recomputed)
    e4, e5 = np.asarray(net(batch), np.float64), ident.encode(batch)  # type: ignore[attr-defined]
    cross = np.linalg.norm(e4[:, None, :] - e5[None, :, :], axis=2)
    iu = np.triu_indices(len(people), k=1)
    dx, sx = cross[iu], people[iu[0]] == people[iu[1]]
    t = DEFAULT_THRESHOLD
    print(f"/4 template vs /5 query at {t}: TAR {(dx[sx] <= t).mean():.2%}, "
          f"FAR {(dx[~sx] <= t).mean():.3%} (both /5: {(d5[same] <= t).mean():.2%}, "
          f"{(d5[~same] <= t).mean():.3%})")  # fmt: skip
    one = batch[:1]
    for name, run in (("/4: network on the chip", lambda: net(one)),
                      ("/5: network on the chip and its mirror", lambda: ident.encode(one))):  # type: ignore[attr-defined]  # fmt: skip
        for _ in range(5):
            run()
        start, n = time.process_time(), 100
        for _ in range(n):
            run()
        ms = (time.process_time() - start) / n * 1000
        print(f"{name}: {ms:.2f} ms CPU per face ({net.precision}; all threads)")


if __name__ == "__main__":
    main()
