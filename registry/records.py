"""Every content-hashed record is checked against the hash its creation event recorded in the audit chain.

The chain verify (registry/audit.py) shows that no event was changed; this shows that no record was changed
behind its event: a data version whose `content_sha256`, or a model version whose `artifact_sha256`, was
updated by SQL, a record with no creation event (inserted by SQL), one whose event names it but that is gone,
and (for records that keep their content, like prompt versions) content that no longer hashes to its hash.
The registry checks its own records; upper apps add theirs with `registry.hooks.add_record_check`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.utils import timezone

from registry import hooks
from registry.audit import AuditEventType, audit_chain_verify
from registry.errors import field_error
from registry.models import (
    Artifact,
    AuditEvent,
    ChainVerificationRun,
    DataVersion,
    DataVersionParent,
    LoggedModel,
    ModelAlias,
    ModelAliasMove,
    ModelVersion,
)

MAX_REPORTED = 1000
_MISSING = object()


@dataclass
class RecordsVerification:
    checked: dict[str, int] = field(default_factory=dict)
    bad_records: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.bad_records

    def report(self, record: str, pk: object, reason: str) -> None:
        if len(self.bad_records) < MAX_REPORTED:
            self.bad_records.append({"record": record, "id": pk, "reason": reason})


Reporter = Callable[[str, object, str], None]


def check_against_creation_events(
    *,
    record: str,
    rows: Iterable[tuple[int, str, str | None]],
    event_type: str,
    target_type: str,
    hash_key: str,
    report: Reporter,
) -> int:
    """Compare `(pk, stored hash, hash recomputed from the content or None)` rows with the hash each row's
    creation event recorded under `hash_key`; report every difference; return how many rows were checked."""
    recorded = {
        target_id: (after or {}).get(hash_key)
        for target_id, after in AuditEvent.objects.filter(event_type=event_type, target_type=target_type)
        .values_list("target_id", "after")
        .iterator(chunk_size=5000)
    }
    checked = 0
    for pk, stored, recomputed in rows:
        checked += 1
        expected = recorded.pop(str(pk), _MISSING)
        if expected is _MISSING:
            report(record, pk, "no creation event records it")
        elif stored != expected:
            report(record, pk, f"{hash_key} differs from the one its creation event recorded")
        elif recomputed is not None and recomputed != stored:
            report(record, pk, f"content does not match its {hash_key}")
    for target_id in sorted(recorded, key=lambda t: (len(t), t)):
        report(record, int(target_id) if target_id.isdigit() else target_id, "its creation event names it: it is gone")
    return checked


def _registry_checks(report: Reporter) -> dict[str, int]:
    return {
        "registry.dataversion": check_against_creation_events(
            record="registry.dataversion",
            rows=(
                (pk, sha, None) for pk, sha in DataVersion.objects.order_by("pk").values_list("pk", "content_sha256")
            ),
            event_type=AuditEventType.DATA_VERSION_REGISTERED,
            target_type="registry.dataversion",
            hash_key="content_sha256",
            report=report,
        ),
        "registry.modelversion": check_against_creation_events(
            record="registry.modelversion",
            rows=(
                (pk, sha, None) for pk, sha in ModelVersion.objects.order_by("pk").values_list("pk", "artifact_sha256")
            ),
            event_type=AuditEventType.MODEL_VERSION_REGISTERED,
            target_type="registry.modelversion",
            hash_key="artifact_sha256",
            report=report,
        ),
    }


def _file_sha256(project_id: int, path: str) -> str:
    from registry.services.artifacts import CHUNK, artifact_file

    digest = hashlib.sha256()
    try:
        with open(artifact_file(project_id, path), "rb") as stored:
            while chunk := stored.read(CHUNK):
                digest.update(chunk)
    except OSError:
        return "missing"
    return digest.hexdigest()


def _artifact_checks(report: Reporter) -> dict[str, int]:
    """Artifact files against their rows and events (a model file swapped on disk, or its row's sha256 rewritten),
    each ready logged model's digest against its files, and each alias against the last move recorded for it."""
    from registry.services.artifacts import logged_model_digest

    checked = {
        "registry.artifact": check_against_creation_events(
            record="registry.artifact",
            rows=(
                (pk, sha, _file_sha256(project_id, path))
                for pk, sha, project_id, path in Artifact.objects.order_by("pk")
                .values_list("pk", "sha256", "project_id", "path")
                .iterator(chunk_size=2000)
            ),
            event_type=AuditEventType.ARTIFACT_STORED,
            target_type="registry.artifact",
            hash_key="sha256",
            report=report,
        )
    }
    models = LoggedModel.objects.filter(status=LoggedModel.Status.READY).select_related("experiment").order_by("pk")
    count = 0
    for model in models.iterator(chunk_size=500):
        count += 1
        if logged_model_digest(model) != model.artifact_sha256:
            report("registry.loggedmodel", model.pk, "its files no longer digest to its artifact_sha256")
    checked["registry.loggedmodel"] = count
    last_moves: dict[tuple[int, str], int] = {}
    for model_id, name, to_version in ModelAliasMove.objects.order_by("created_at", "id").values_list(
        "model_id", "name", "to_version_id"
    ):
        last_moves[(model_id, name)] = to_version
    last_events: dict[tuple[str, str], object] = {}
    for target_id, after in (
        AuditEvent.objects.filter(event_type=AuditEventType.MODEL_ALIAS_MOVED)
        .order_by("seq")
        .values_list("target_id", "after")
    ):
        last_events[(target_id, (after or {}).get("alias"))] = (after or {}).get("model_version")
    count = 0
    for pk, model_id, name, version_id in ModelAlias.objects.order_by("pk").values_list(
        "pk", "model_id", "name", "model_version_id"
    ):
        count += 1
        if last_moves.get((model_id, name)) != version_id or last_events.get((str(model_id), name)) != version_id:
            report("registry.modelalias", pk, "points at another version than its last recorded move")
    checked["registry.modelalias"] = count
    return checked


def _lineage_checks(report: Reporter) -> dict[str, int]:
    """Each derived-from edge against the events that made it (a version's registration names its parents; an
    OpenLineage event the edges its run added): an edge deleted by SQL would hide a derived version from erasure
    traces, one inserted would fake a lineage."""
    recorded: set[tuple[int, int]] = set()
    registered = AuditEvent.objects.filter(event_type=AuditEventType.DATA_VERSION_REGISTERED)
    for target_id, after in registered.values_list("target_id", "after").iterator(chunk_size=5000):
        recorded.update((int(target_id), parent) for parent in (after or {}).get("parents", []))
    lineage = AuditEvent.objects.filter(event_type=AuditEventType.LINEAGE_EVENT_RECORDED)
    for after in lineage.values_list("after", flat=True).iterator(chunk_size=5000):
        recorded.update((child, parent) for child, parent in (after or {}).get("derived", []))
    count = 0
    edges = DataVersionParent.objects.order_by("pk").values_list("pk", "child_id", "parent_id")
    for pk, child, parent in edges.iterator(chunk_size=5000):
        count += 1
        if (child, parent) in recorded:
            recorded.discard((child, parent))
        else:
            report("registry.dataversionparent", pk, f"no event records data version {child} derived from {parent}")
    for child, parent in sorted(recorded):
        report(
            "registry.dataversionparent", f"{child}<-{parent}", "its event records this derived-from edge: it is gone"
        )
    return {"registry.dataversionparent": count}


def records_verify() -> RecordsVerification:
    """Run the registry's record checks and those the upper apps registered."""
    result = RecordsVerification()
    for check in (_registry_checks, _artifact_checks, _lineage_checks, *hooks.record_checks()):
        result.checked.update(check(result.report))
    return result


def verification_recorded(*, actor_name: str, chain, records: RecordsVerification) -> ChainVerificationRun:
    """Keep that the trail was verified, by whom, with what result (the home's "last verification")."""
    reason = chain.reason or ("" if records.ok else f"{len(records.bad_records)} records differ from their events")
    return ChainVerificationRun.objects.create(
        verified_at=timezone.now(),
        actor_name=actor_name[:200],
        ok=chain.ok and records.ok,
        length=chain.length,
        head_hash=chain.head,
        reason=(reason or "")[:300],
    )


def trail_verify(*, anchors: dict[int, str] | None = None, actor_name: str | None = None) -> dict:
    """The chain verify and the records verify in one answer (API and command): ok only when both hold; kept as a
    ChainVerificationRun when `actor_name` says who asked."""
    chain = audit_chain_verify(anchors=anchors)
    records = records_verify()
    if actor_name is not None:
        verification_recorded(actor_name=actor_name, chain=chain, records=records)
    return {
        **chain.as_dict(),
        "ok": chain.ok and records.ok,
        "records_checked": records.checked,
        "bad_records": records.bad_records,
    }


def trail_verify_for(
    *, scope: set[int] | None, anchors: dict[int, str] | None = None, actor_name: str | None = None
) -> dict:
    """`trail_verify` as a caller whose projects are `scope` may see it (None: every project, the whole answer).

    A project's auditor learns whether the one chain and the records hold, not how long the chain is or where its
    head lies (that would tell every project's activity): ok, the reason if not, and their own projects' events.
    An anchor on another project's event is refused (ServiceError on `anchor`)."""
    anchors = anchors or {}
    if scope is None:
        return trail_verify(anchors=anchors, actor_name=actor_name)
    mine = AuditEvent.objects.filter(project_id__in=scope)
    foreign = sorted(set(anchors) - set(mine.filter(seq__in=list(anchors)).values_list("seq", flat=True)))
    if foreign:
        raise field_error("anchor", f"seq {foreign[0]} is not an event of your projects")
    result = trail_verify(anchors=anchors, actor_name=actor_name)
    body = {"ok": result["ok"], "project_events": mine.count()}
    if not result["ok"]:
        body["reason"] = result.get("reason") or "content-hashed records differ from their creation events"
    return body
