"""Scanning files: walk paths, run signals on each image, never let one bad file stop the run."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gardefou.errors import GardefouError, MediaUnreadableError
from gardefou.media import Limits, Media, load_media
from gardefou.signals import get_signal
from gardefou.signals.base import SignalResult


@dataclass
class ScanRecord:
    """The outcome for one file: signal results, or the typed error that rejected it."""

    path: str
    media: Media | None = None
    results: list[SignalResult] = field(default_factory=list)
    error: GardefouError | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self, timings: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path}
        if self.error is not None:
            out["error"] = self.error.to_dict()
            return out
        assert self.media is not None
        out["media"] = {
            "sha256": self.media.sha256,
            "format": self.media.format,
            "width": self.media.width,
            "height": self.media.height,
            "frames": self.media.frames,
        }
        out["signals"] = {
            r.name: {
                "value": r.value,
                "score": r.score,
                "explanation": r.explanation,
                "available": r.available,
                **({"details": dict(r.details)} if r.details else {}),
            }
            for r in self.results
        }
        if timings:
            out["timings_ms"] = self.timings_ms
        return out


def iter_files(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Path]:
    """Files under the given paths, recursively, in a stable order. Hidden entries are skipped
    inside folders but a hidden file named explicitly is scanned. Missing paths are yielded so
    that the scan reports them as errors instead of dropping them silently."""
    for p in paths:
        path = Path(p)
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if not name.startswith("."):
                        yield Path(root) / name
        else:
            yield path


def run_signals(
    media: Media,
    names: Sequence[str],
    context: dict[str, Any] | None = None,
    timings: dict[str, float] | None = None,
) -> list[SignalResult]:
    """Run signals on one media. A failing signal yields an unavailable result, never a crash,
    and never a silent 'clean'."""
    results = []
    for name in names:
        start = time.perf_counter()
        try:
            results.append(get_signal(name).extract(media, context))
        except GardefouError as exc:
            sig = get_signal(name)
            results.append(sig.unavailable(f"{type(exc).__name__}: {exc}"))
        except Exception as exc:  # noqa: BLE001 - one model bug must not take down a batch
            results.append(
                SignalResult(
                    name, "?", None, None, f"signal failed: {type(exc).__name__}: {exc}", False
                )
            )
        if timings is not None:
            timings[name] = (time.perf_counter() - start) * 1000
    return results


def scan_file(
    path: str | os.PathLike[str],
    names: Sequence[str],
    limits: Limits | None = None,
) -> ScanRecord:
    record = ScanRecord(path=str(path))
    try:
        start = time.perf_counter()
        record.media = load_media(path, limits)
        record.timings_ms["decode"] = (time.perf_counter() - start) * 1000
    except GardefouError as exc:
        record.error = exc
        return record
    except Exception as exc:  # noqa: BLE001 - a decoder bug on one file must not stop the scan
        record.error = MediaUnreadableError(f"{path}: unexpected {type(exc).__name__}: {exc}")
        return record
    record.results = run_signals(record.media, names, timings=record.timings_ms)
    return record


def scan_paths(
    paths: Iterable[str | os.PathLike[str]],
    names: Sequence[str],
    limits: Limits | None = None,
    on_record: Callable[[ScanRecord], None] | None = None,
) -> Iterator[ScanRecord]:
    for path in iter_files(paths):
        record = scan_file(path, names, limits)
        if on_record:
            on_record(record)
        yield record
