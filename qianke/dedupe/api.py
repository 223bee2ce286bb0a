"""REST API of the dedupe app: parse → call a service/selector → return a schema."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext
from ninja import Field, Query, Router, Schema, Status

from qianke.core.api import InSchema, PageOut, PageParams, UserRef, page_out, responses
from qianke.dedupe import selectors, services
from qianke.dedupe.models import DuplicateGroup, Merge

router = Router(tags=["duplicates and merge"])


class CustomerRef(Schema):
    id: int
    code: str
    name: str
    owner: UserRef | None = None


class EvidenceOut(Schema):
    role: str = Field(..., description="The field compared: name, phone, mobile, email, address, contact, …")
    left: str
    right: str
    similarity: float = Field(..., description="How strongly the values agree, 0–1.")
    weight: float = Field(..., description="What this field added to (or took from) the score.")
    note: str = Field("", description="Why the values agree or differ, in the request's language.")

    @staticmethod
    def resolve_note(obj: Any) -> str:
        # Stored as the English msgid (the engine is language-free); translated for the reader.
        note = obj.get("note") if isinstance(obj, dict) else getattr(obj, "note", "")
        return gettext(note) if note else ""


class PairOut(Schema):
    left: int
    right: int
    score: float
    decision: str
    evidence: list[EvidenceOut]


class GroupOut(Schema):
    id: int
    status: str = Field(..., description="open, merged or dismissed")
    decision: str = Field(..., description="same (above the threshold) or review (in the review band)")
    score: float = Field(..., description="The best pair's score, 0–1.")
    size: int
    members: list[CustomerRef]
    pairs: list[PairOut]
    created_at: dt.datetime
    resolved_at: dt.datetime | None
    merge: int | None = Field(None, description="The merge that resolved the group, while not undone.")
    import_job: int | None = Field(None, description="The import whose duplicate check found the group.")


def _group_out(group: DuplicateGroup) -> dict[str, Any]:
    merges = list(group.merges.all())
    return {"id": group.pk, "status": group.status, "decision": group.decision, "score": group.score,
            "size": group.size, "members": selectors.group_customers(group), "pairs": group.pairs or [],
            "created_at": group.created_at, "resolved_at": group.resolved_at,
            "merge": merges[0].pk if merges else None, "import_job": group.import_job_id}


class GroupQuery(PageParams):
    status: str = Field("open", description="open, merged or dismissed; empty for all")
    decision: str = Field("", description="same or review; empty for both")
    import_job: int | None = Field(None, alias="import",
                                   description="Only the groups the duplicate check of this import found.")


class CandidateOut(Schema):
    id: int
    code: str
    name: str
    score: float
    decision: str = Field(..., description="same, review, or different (then listed for the same name only)")
    same_name: bool
    evidence: list[EvidenceOut]


class MergeIn(InSchema):
    survivor: int = Field(..., description="The customer that stays.")
    merged: list[int] = Field(..., description="The customers merged into it (archived, pointing to it).")
    fields: dict[str, int] = Field(
        default_factory=dict,
        description="Per field, the customer whose value survives, e.g. {\"name\": 12, \"custom.brand\": 15}. "
                    "Fields not named keep the survivor's value, or the first merged customer's where the "
                    "survivor has none.")
    group: int | None = Field(None, description="The duplicate group being resolved, if any.")


class MovedOut(Schema):
    model: str
    field: str
    customer: int
    count: int


class KeptOut(Schema):
    model: str
    field: str
    customer: int
    pk: Any
    reason: str = Field(..., description="one_to_one (the survivor has its own), unique, self_reference or "
                        "in_pool (a pool entry of an unowned customer, the survivor has an owner)")


class MergeOut(Schema):
    id: int
    survivor: CustomerRef
    merged: list[CustomerRef]
    actor: UserRef | None
    created_at: dt.datetime
    undone_at: dt.datetime | None
    undone_by: UserRef | None
    fields: dict[str, Any] = Field(..., description="Field → [survivor's value before, value after].")
    moved: list[MovedOut]
    kept: list[KeptOut]


def _merge_out(merge: Merge) -> dict[str, Any]:
    snap = merge.snapshot
    before, after = snap.get("before", {}), snap.get("after", {})
    fields = {k: [before.get(k), after.get(k)] for k in sorted(set(before) | set(after))
              if before.get(k) != after.get(k)}
    return {"id": merge.pk, "survivor": merge.survivor, "merged": selectors.merged_customers(merge),
            "actor": merge.actor, "created_at": merge.created_at, "undone_at": merge.undone_at,
            "undone_by": merge.undone_by, "fields": fields,
            "moved": [{**m, "count": len(m["pks"])} for m in snap.get("moved", [])], "kept": snap.get("kept", [])}


@router.get("/duplicates", response=responses(PageOut[GroupOut]), summary="Duplicate groups to review",
            description="Groups found by the scan (job dedupe.scan) or by an import's duplicate check whose every "
                        "member you can see, best first.")
def duplicate_list(request, params: Query[GroupQuery]):
    page = selectors.duplicate_group_list(
        user=request.auth, filters=selectors.GroupFilters(status=params.status, decision=params.decision,
                                                                 import_job=params.import_job),
        limit=params.limit, offset=params.offset)
    out = page_out(page)
    out["items"] = [_group_out(g) for g in page.items]
    return out


@router.get("/duplicates/{group_id}", response=responses(GroupOut), summary="One duplicate group with evidence")
def duplicate_get(request, group_id: int):
    return _group_out(selectors.duplicate_group_get(user=request.auth, group_id=group_id))


@router.post("/duplicates/{group_id}/dismiss", response=responses(GroupOut, write=True),
             summary="Mark a group as not duplicates",
             description="Every pair of the group is remembered as different; later scans respect it.")
def duplicate_dismiss(request, group_id: int):
    group = services.duplicate_group_dismiss(actor=request.auth, group_id=group_id)
    return _group_out(selectors.duplicate_group_get(user=request.auth, group_id=group.pk))


@router.get("/customers/{customer_id}/duplicates", response=responses(list[CandidateOut]),
            summary="Likely duplicates of one customer", description="Customers you can see that the matching "
            "engine takes for the same customer or asks to review, with the evidence per field.")
def customer_duplicates(request, customer_id: int):
    return [c.as_dict() for c in selectors.customer_duplicates(user=request.auth, customer_id=customer_id)]


@router.post("/customers/merge", response=responses(MergeOut, 201, write=True), summary="Merge customers",
             description="Moves contacts, follow-ups, deals, origins, history and every other related row to "
                         "the survivor, archives the merged customers and records the merge so it can be undone.")
def customer_merge(request, payload: MergeIn):
    merge = services.customer_merge(actor=request.auth, survivor_id=payload.survivor, merged_ids=payload.merged,
                                    field_choices=payload.fields, group_id=payload.group)
    return Status(201, _merge_out(selectors.merge_get(user=request.auth, merge_id=merge.pk)))


@router.get("/merges/{merge_id}", response=responses(MergeOut), summary="One merge")
def merge_get(request, merge_id: int):
    return _merge_out(selectors.merge_get(user=request.auth, merge_id=merge_id))


@router.post("/merges/{merge_id}/undo", response=responses(MergeOut, write=True), summary="Undo a merge",
             description="Restores the survivor's values, moves every row back and restores the merged customers. "
                         "409 undo_conflict when the survivor was edited since in the merged fields.")
def merge_undo(request, merge_id: int):
    merge = services.merge_undo(actor=request.auth, merge_id=merge_id)
    return _merge_out(selectors.merge_get(user=request.auth, merge_id=merge.pk))
