"""Cases for the review console: the queue (nearest deadline first, then most severe; or as
clusters of copies, ``gardefou.cases.clusters``), one case
with the decision's reasons and rule trace, its media (blurred and grey unless revealed, each
reveal counted), decisions with DSA grounds, second review and appeals."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi import Path as PathParam
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from gardefou.decision import Action
from gardefou.errors import ConfigError, NotFoundError
from gardefou.web.auth import Principal, Role
from gardefou.web.deps import RowId, Svc, WebServices, require
from gardefou.web.routers.decisions import decide_services

router = APIRouter(prefix="/v1/cases", tags=["cases"])
Staff = Annotated[Principal, Depends(require(Role.MODERATOR, Role.AUDITOR))]
Moderator = Annotated[Principal, Depends(require(Role.MODERATOR))]
Appellant = Annotated[Principal, Depends(require(Role.PLATFORM, Role.MODERATOR))]

#: Review targets per proposed action, in hours (a service level, configurable in code).
REVIEW_SLA_HOURS = {
    "remove_escalate": 1.0,
    "remove": 24.0,
    "refuse": 24.0,
    "review": 24.0,
    "age_restrict": 72.0,
    "label": 72.0,
    "allow": 72.0,
}
NEEDS_PERSON = ("pending_review", "second_review", "appealed")


class DecideIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: Action
    rule_id: str | None = Field(None, max_length=200, description="policy rule (DSA ground)")
    note: str = Field("", max_length=2000)


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str = Field("", max_length=2000)


class AppealIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    appellant: str = Field(min_length=1, max_length=200)
    statement: str = Field("", max_length=5000)


def _store(svc: WebServices) -> Any:
    return decide_services(svc).cases()


def _deadline(case: Any) -> float:
    created = datetime.fromisoformat(case.created_at).timestamp()
    return created + REVIEW_SLA_HOURS.get(case.action.value, 24.0) * 3600


def _summary(case: Any) -> dict[str, Any]:
    d = case.to_dict()
    d["deadline_at"] = _deadline(case)
    return d


@router.get("", summary="Cases awaiting a person: nearest deadline first, then most severe")
def queue(
    svc: Svc,
    caller: Staff,
    response: Response,
    status: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
) -> list[dict[str, Any]]:
    """The ``limit`` most urgent cases; ``X-Total-Count`` says how many await in all, so a
    longer queue shows as cut (the console says "showing N of M") instead of silently."""
    store = _store(svc)
    statuses = (status,) if status else NEEDS_PERSON
    cases = [c for s in statuses for c in store.queue(s, limit=limit)]
    cases.sort(key=lambda c: (_deadline(c), -c.severity, c.id))
    response.headers["X-Total-Count"] = str(sum(store.count(s) for s in statuses))
    return [_summary(c) for c in cases[:limit]]


class ClusterDecideIn(DecideIn):
    case_ids: list[int] = Field(min_length=1, max_length=5000, description="the cases seen")


@router.get("/clusters", summary="The queue as clusters of copies: earliest deadline first")
def cluster_queue(
    svc: Svc,
    caller: Staff,
    response: Response,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict[str, Any]]:
    """Cases awaiting a first or second review grouped by what they share (a victim-bank entry,
    a parent post, a consent template, a near-identical PDQ hash); ``X-Total-Count`` is the
    number of clusters."""
    from gardefou.cases.clusters import clusters

    store = _store(svc)
    cases = [c for s in ("pending_review", "second_review") for c in store.queue(s, limit=5000)]
    found = clusters(svc.db, cases, _deadline)
    response.headers["X-Total-Count"] = str(len(found))
    by_id = {c.id: c for c in cases}
    out = []
    for cl in found[:limit]:
        d = cl.to_dict()
        d["first"] = _summary(by_id[cl.id])
        out.append(d)
    return out


@router.post("/clusters/{cluster_id}/decisions", summary="One decision for a cluster's cases")
def decide_cluster(
    cluster_id: RowId, body: ClusterDecideIn, svc: Svc, caller: Moderator
) -> dict[str, Any]:
    """Applied case by case: each keeps its own record and DSA statement. ``case_ids`` are the
    cases the moderator saw; leave one out to split it as an exception (it is then never
    grouped again and is decided on its own)."""
    from gardefou.cases.clusters import clusters, decide_cluster, split

    store = _store(svc)
    cases = [c for s in ("pending_review", "second_review") for c in store.queue(s, limit=5000)]
    cluster = next((c for c in clusters(svc.db, cases, _deadline) if c.id == cluster_id), None)
    if cluster is None:
        raise NotFoundError(f"no cluster {cluster_id} awaits a decision (reload the queue)")
    unknown = sorted(set(body.case_ids) - set(cluster.case_ids))
    if unknown:
        raise ConfigError(f"cases {unknown} are not in cluster {cluster_id} (reload the queue)")
    for left_out in sorted(set(cluster.case_ids) - set(body.case_ids)):
        split(svc.db, left_out)
    decided = decide_cluster(
        store, body.case_ids, caller.name, body.action, body.note, body.rule_id
    )
    svc.record_exposure(caller.name, decisions=1)
    return {
        "cluster_id": cluster_id,
        "decided": [_summary(c) for c in decided],
        "split_out": sorted(set(cluster.case_ids) - set(body.case_ids)),
    }


@router.post("/{case_id}/split", summary="Take a case out of its cluster (an exception)")
def split_case(case_id: RowId, svc: Svc, caller: Moderator) -> dict[str, Any]:
    from gardefou.cases.clusters import split

    case = _store(svc).get(case_id)
    split(svc.db, case_id)
    return _summary(case)


@router.get("/{case_id}/statement", summary="The DSA statement a decision would give")
def statement_preview(
    case_id: RowId,
    svc: Svc,
    caller: Staff,
    action: Action,
    rule_id: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, Any]:
    """What the affected person would receive (DSA Art. 17) for ``action`` on this case; an
    action that restricts nothing gives no statement."""
    store = _store(svc)
    case = store.get(case_id)
    fields = store.statement_fields(case, action, rule_id)
    return {"action": action.value, "rule_id": rule_id, "statement": fields or None}


@router.get("/{case_id}", summary="One case: decision, reasons, rule trace, history, appeals")
def get_case(case_id: RowId, svc: Svc, caller: Staff) -> dict[str, Any]:
    store = _store(svc)
    case = store.get(case_id)
    out = _summary(case)
    from gardefou.decide.record import stored_decision_json

    decision = stored_decision_json(svc.db, case.event_id)
    if decision is not None:
        out["decision"] = decision
    out["history"] = [
        {
            "kind": a.kind,
            "actor": a.actor,
            "action": a.action.value,
            "note": a.note,
            "at": a.created_at,
        }
        for a in store.history(case_id)
    ]
    out["appeals"] = [a.__dict__ for a in store.appeals(case_id)]
    media = _media_rows(svc, case.event_id)
    out["media"] = [
        {
            "index": i,
            "sha256": m["sha256"],
            "role": m["role"],
            # a clip's key frame: its time in the clip (the console shows a strip)
            "frame_at": None if m.get("frame_at") is None else float(m["frame_at"]),
            "url": f"/v1/cases/{case_id}/media/{i}",
        }
        for i, m in enumerate(media)
    ]
    from gardefou.web.case_view import facts_in_words, thread_view

    out["thread"] = thread_view(svc.db, case, out.get("decision"))
    out["facts"] = facts_in_words(out.get("decision"))
    policy = store.policy
    out["actions"] = [a.value for a in Action if a not in (Action.REFUSE,)]
    out["dsa_options"] = [
        {
            "rule_id": r.id,
            "template": r.dsa,
            "category": policy.dsa.get(r.dsa or "", {}).get("category"),
            "decision_ground": policy.dsa.get(r.dsa or "", {}).get("decision_ground"),
            "suggested": r.id in case.rules,
        }
        for r in policy.rules
        if r.dsa
    ]
    out["dsa_options"].sort(key=lambda o: not o["suggested"])
    return out


def _media_rows(svc: WebServices, event_id: str) -> list[dict[str, Any]]:
    from gardefou.store.media import ReviewMedia

    svc.db.execute("DELETE FROM review_media WHERE expires_at < ?", (svc.settings.clock(),))
    return ReviewMedia(svc.db).rows(event_id)


@router.get(
    "/{case_id}/media/{index}",
    summary="A case's image: blurred and grey unless revealed",
    response_class=Response,
)
def media(
    case_id: RowId,
    index: Annotated[int, PathParam(ge=0, le=1000)],
    svc: Svc,
    caller: Staff,
    reveal: bool = False,
) -> Response:
    case = _store(svc).get(case_id)
    rows = _media_rows(svc, case.event_id)
    if not 0 <= index < len(rows):
        raise NotFoundError(f"case {case_id} has no kept image {index} ({len(rows)} kept)")
    if reveal:
        svc.record_exposure(caller.name, revealed=1)
    body = _thumbnail(svc, int(rows[index]["id"]), blur=not reveal)
    return Response(
        body,
        media_type="image/jpeg",
        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
    )


def _thumbnail(svc: WebServices, row_id: int, blur: bool) -> bytes:
    """The thumbnail stored when the image was kept (at most 768 px; the protected view is
    greyscale and heavily blurred on the server, so unblurred pixels reach the browser only on
    an explicit reveal). Viewing never decodes the original: only an image kept before
    thumbnails were stored gets them made, once, under a decode slot."""
    from gardefou.store.media import ReviewMedia
    from gardefou.web.media import decode_gate, make_thumbnails

    def make(raw: bytes) -> tuple[bytes, bytes]:
        with decode_gate(svc).hold():
            return make_thumbnails(svc, raw)

    return ReviewMedia(svc.db).thumbnail(row_id, blur, make)


@router.post("/{case_id}/decisions", summary="Decide: review, second review or appeal, by status")
def decide(case_id: RowId, body: DecideIn, svc: Svc, caller: Moderator) -> dict[str, Any]:
    store = _store(svc)
    case = store.get(case_id)
    if case.status == "pending_review":
        case = store.review(case_id, caller.name, body.action, body.note, body.rule_id)
    elif case.status == "second_review":
        case = store.second_review(case_id, caller.name, body.action, body.note, body.rule_id)
    elif case.status == "appealed":
        open_ = [a for a in store.appeals(case_id) if a.status == "open"]
        case = store.decide_appeal(open_[-1].id, caller.name, body.action, body.note, body.rule_id)
    else:
        raise ConfigError(f"case {case_id} is {case.status}; nothing awaits a decision")
    svc.record_exposure(caller.name, decisions=1)
    if case.status == "closed":  # nothing restricted: the image is no longer needed
        svc.db.execute("DELETE FROM review_media WHERE event_id = ?", (case.event_id,))
    return _summary(case)


@router.post("/{case_id}/second-review", summary="Ask another moderator to confirm")
def second_review(case_id: RowId, body: NoteIn, svc: Svc, caller: Moderator) -> dict[str, Any]:
    return _summary(_store(svc).request_second_review(case_id, caller.name, body.note))


@router.post("/{case_id}/appeals", status_code=201, summary="File the poster's appeal")
def appeal(case_id: RowId, body: AppealIn, svc: Svc, caller: Appellant) -> dict[str, Any]:
    a = _store(svc).appeal(case_id, body.appellant, body.statement)
    return dict(a.__dict__)
