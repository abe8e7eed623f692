"""Event parsing: Post and GenerationEvent from JSON, typed errors naming the fix."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest

from gardefou.errors import PipelineEventError
from gardefou.events import GenerationEvent, Post, iter_jsonl, mentions_in, parse_event, parse_json


def test_post_fields():
    p = parse_event(
        {
            "id": 7,
            "author": "u1",
            "created_at": "2026-01-05T10:00:00Z",
            "text": "@ImgBot put her in a bikini @x.y",
            "media": ["a.jpg", {"path": "b"}],
            "reply_to": "p1",
            "lang": "en",
        }
    )
    assert isinstance(p, Post) and p.id == "7" and p.kind == "post" and p.actor == "u1"
    assert p.created_at == datetime(2026, 1, 5, 10, tzinfo=UTC)
    assert p.mentions == ("imgbot", "x.y")
    assert [m.path for m in p.media] == ["a.jpg", "b"]


def test_explicit_mentions_and_epoch_time():
    p = parse_event({"id": "a", "mentions": ["@Bot", "bot", "other"], "created_at": 0})
    assert p.mentions == ("bot", "other") and p.created_at.year == 1970
    # an empty list (an HTTP model's default) does not hide the @handles in the text
    p = parse_event({"id": "b", "mentions": [], "text": "@imgbot undress her"})
    assert p.mentions == ("imgbot",)
    p = parse_event({"id": "c", "mentions": ["bot2"], "text": "@imgbot hi"})
    assert p.mentions == ("bot2", "imgbot")


def test_generation_kind_inferred():
    data = base64.b64encode(b"\x89PNG...").decode()
    g = parse_json(
        json.dumps(
            {
                "id": "g",
                "request": "x",
                "input_media": "in.jpg",
                "output_media": [{"b64": data}],
                "requester": "u2",
                "model": "m1",
            }
        )
    )
    assert isinstance(g, GenerationEvent) and g.actor == "u2" and g.kind == "generation"
    assert g.input_media[0].path == "in.jpg" and g.output_media[0].data == b"\x89PNG..."
    assert g.extra == {"model": "m1"}


@pytest.mark.parametrize(
    ("obj", "msg"),
    [
        ([], "must be a JSON object"),
        ({"id": ""}, "no usable 'id'"),
        ({"id": True}, "no usable 'id'"),
        ({"id": "x" * 201}, "over 200"),
        ({"id": "a", "kind": "story"}, "unknown kind 'story'"),
        ({"id": "a", "created_at": "yesterday"}, "not an ISO 8601 time"),
        ({"id": "a", "author": ["u"]}, "'author' must be a string"),
        ({"id": "a", "media": [{"url": "http://x/y.jpg"}]}, "URLs are not fetched"),
        ({"id": "a", "media": [{"b64": "!!"}]}, "not valid base64"),
        ({"id": "a", "media": [3]}, "a media reference is a path"),
        ({"id": "a", "media": ["x"] * 33}, "the limit is 32"),
        ({"id": "a", "mentions": "bob"}, "'mentions' must be a list"),
        ({"id": "a", "text": "x" * 100_001}, "the limit is 100000"),
    ],
)
def test_bad_events(obj, msg):
    with pytest.raises(PipelineEventError, match=msg):
        parse_event(obj)


def test_bad_json():
    with pytest.raises(PipelineEventError, match="not valid JSON"):
        parse_json("{nope")


def test_jsonl_keeps_going(tmp_path):
    f = tmp_path / "s.jsonl"
    f.write_text('{"id": "a"}\n\n{bad\n{"id": "b", "kind": "x"}\n{"id": "c"}\n', encoding="utf-8")
    out = list(iter_jsonl(f))
    assert [n for n, _ in out] == [1, 3, 4, 5]
    assert isinstance(out[1][1], PipelineEventError) and f"{f}:3:" in str(out[1][1])
    assert out[3][1].id == "c"


def test_mentions_in():
    assert mentions_in("mail me at a@b.c, @Grok and @grok!") == ("grok",)


# -- one event model: the pipeline's envelope wraps these events, and a reference loads itself ----


def test_the_pipeline_has_no_second_event_model():
    from gardefou.events import MediaRef
    from gardefou.pipeline import PipelineEvent, deciders

    # the names may be imported there, but they are the events module's own
    assert getattr(deciders, "MediaRef", MediaRef) is MediaRef
    assert getattr(deciders, "parse_event", parse_event) is parse_event
    ev = PipelineEvent.parse({"id": 3, "input_media": "a.jpg", "output_media": [{"path": "b"}]})
    assert isinstance(ev.event, GenerationEvent) and (ev.id, ev.kind) == ("3", "generation")
    assert all(isinstance(r, MediaRef) for r in ev.media_refs)
    assert [(r.role, r.path) for r in ev.media_refs] == [("input", "a.jpg"), ("output", "b")]
    assert [r.role for r in parse_event({"id": "p", "media": ["x.png"]}).media_refs] == ["media"]


def test_media_ref_loads_itself_under_limits(tmp_path):
    from PIL import Image

    from gardefou.errors import MediaTooLargeError, MediaUnreadableError
    from gardefou.media import Limits, Media

    Image.new("RGB", (40, 30), (1, 2, 3)).save(tmp_path / "a.png")
    png = (tmp_path / "a.png").read_bytes()
    by_path, inline, missing = parse_event(
        {"id": "e", "media": ["a.png", {"b64": base64.b64encode(png).decode()}, "gone.png"]}
    ).media
    for ref in (by_path, inline):
        m = ref.load(Limits(), tmp_path)
        assert isinstance(m, Media) and (m.width, m.height) == (40, 30)
    with pytest.raises(MediaUnreadableError, match=r"e/media\[2\]: media file .*gone\.png"):
        missing.load(Limits(), tmp_path)
    with pytest.raises(MediaTooLargeError):
        by_path.load(Limits(max_bytes=10), tmp_path)


def test_the_pipeline_parses_every_field_before_decoding_media(tmp_db, tmp_path):
    """An event whose fields are wrong is dead-lettered as such before its media is read (the
    envelope and the event were once parsed by two parsers, the second after intake)."""
    from gardefou.pipeline import Envelope, Processor
    from gardefou.pipeline.deciders import SignalsOnlyDecider

    bad = {"id": "b1", "author": ["not", "a", "string"], "media": ["missing.png"]}
    env = Envelope(json.dumps(bad).encode(), "test:1", base_dir=tmp_path)
    out = Processor(tmp_db, SignalsOnlyDecider(signals=[])).process(env)
    assert (out.status, out.reason_code) == ("dead_letter", "invalid_event")
    assert "'author' must be a string" in out.reason
