"""Retention of the decision log: each project's months past its policy's maximum are sealed into the audit trail
and then dropped as partitions (registry/partitions.py), the decisions and their outcome history together.

- A month is past the maximum when whole calendar months since its end reach `retention_max_months`: with a
  maximum of 25, the decisions of January 2024 go once March 2026 has begun. The minimum (six months or more:
  AI Act Art. 19(1) and 26(6)) is enforced on the policy (`retention_check`), so no maximum lies below it.
- A legal hold on the project keeps every month; one on a model version keeps each month holding its decisions.
- The seal, written in the transaction that drops the month, holds the month's row counts and the hash over its
  commitments, and per model version and ingest batch (and outcome batch) the rows sealed and the rows and hashes
  that remain in other months, read and checked against the batch's audit event (or the previous seal) before
  anything is dropped. `decisions_verify` checks what remains against the latest seal, so every batch still
  verifies after a drop and a month dropped without a seal is named (governance/integrity.py).
- Ingest refuses decisions of a sealed month (governance.services.decisions).

On SQLite (one table, no partitions) nothing is dropped: `retention_apply` reports the months it would seal."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from django.db import connection, transaction

from governance.events import GovernanceEvent as Event
from governance.integrity import (
    batch_hash,
    outcome_row_hash,
    recorded_batches,
    recorded_outcome_batches,
    recorded_seals,
)
from governance.models import MIN_RETENTION_MONTHS, Decision, LegalHold, OutcomeVersion, Policy, SealedMonth
from governance.permissions import HOLD_OFFICERS
from registry import partitions
from registry.actors import Actor
from registry.audit import audit_append
from registry.errors import ServiceError, field_error
from registry.locks import for_update
from registry.models import ModelVersion, Project
from registry.partitions import add_months, month_of, statement

SEAL_TARGET = "governance.sealedmonth"
MAX_REASON = 2000


def retention_check(*, minimum: int | None, maximum: int | None) -> None:
    """The policy's retention months: a minimum of six or more, a maximum not below the minimum."""
    if minimum is not None and minimum < MIN_RETENTION_MONTHS:
        raise field_error(
            "retention_min_months",
            f"must be at least {MIN_RETENTION_MONTHS}: the logs of a high-risk AI system are kept at least six months "
            "(AI Act Art. 19(1) and 26(6))",
        )
    if maximum is not None and maximum < (minimum or MIN_RETENTION_MONTHS):
        raise field_error("retention_max_months", "must not be below retention_min_months")


def expired(month: date, *, maximum: int, now: datetime) -> bool:
    """Whether whole months since the end of `month` reach `maximum`."""
    return add_months(month, 1 + maximum) <= month_of(now)


# -- legal holds --------------------------------------------------------------------------------------------------


def hold_place(
    *, actor: Actor, project: Project, reason: object, model_version: ModelVersion | None = None
) -> LegalHold:
    if not actor.can(HOLD_OFFICERS, project.pk):
        raise ServiceError("only a compliance officer of the project places a legal hold", code="permission_denied")
    if not isinstance(reason, str) or not reason.strip():
        raise field_error("reason", "is required: the matter the hold is for")
    if len(reason) > MAX_REASON:
        raise field_error("reason", f"must be at most {MAX_REASON} characters")
    if model_version is not None and model_version.project_id != project.pk:
        raise field_error("model_version", "is not a version of this project's models")
    with transaction.atomic():
        hold = LegalHold.objects.create(
            project=project,
            model_version=model_version,
            reason=reason.strip(),
            placed_by=actor.label[:200],
            created_by_user=actor.user if actor.user is not None and actor.user.pk else None,
            created_by_key=actor.api_key,
        )
        audit_append(actor=actor, event_type=Event.HOLD_PLACED, target=hold, after=_hold_snapshot(hold))
    return hold


def hold_release(*, actor: Actor, hold: LegalHold, reason: object, now: datetime) -> LegalHold:
    if not actor.can(HOLD_OFFICERS, hold.project_id):
        raise ServiceError("only a compliance officer of the project releases a legal hold", code="permission_denied")
    if not isinstance(reason, str) or not reason.strip():
        raise field_error("reason", "is required: why the hold no longer applies")
    if len(reason) > MAX_REASON:
        raise field_error("reason", f"must be at most {MAX_REASON} characters")
    with transaction.atomic():
        locked = for_update(LegalHold.objects).get(pk=hold.pk)
        if locked.released_at is not None:
            raise ServiceError("this legal hold was already released", code="conflict")
        before = _hold_snapshot(locked)
        locked.released_at, locked.released_by, locked.release_reason = now, actor.label[:200], reason.strip()
        locked.save(update_fields=["released_at", "released_by", "release_reason"])
        audit_append(
            actor=actor, event_type=Event.HOLD_RELEASED, target=locked, before=before, after=_hold_snapshot(locked)
        )
    return locked


def _hold_snapshot(hold: LegalHold) -> dict:
    return {
        "model_version": hold.model_version_id,
        "reason": hold.reason,
        "released_at": hold.released_at.isoformat() if hold.released_at else None,
        "release_reason": hold.release_reason,
    }


def holding(project_id: int, month: date) -> list[LegalHold]:
    """The active holds that keep this project's month: one on the project, or on a version with decisions in it."""
    active = list(LegalHold.objects.filter(project_id=project_id, released_at__isnull=True))
    whole = [hold for hold in active if hold.model_version_id is None]
    if whole:
        return whole
    versions = {hold.model_version_id for hold in active}
    if not versions:
        return []
    present = set(
        _month_decisions(project_id, month)
        .filter(model_version_id__in=versions)
        .values_list("model_version_id", flat=True)
        .distinct()
    )
    return [hold for hold in active if hold.model_version_id in present]


# -- sealing and dropping -----------------------------------------------------------------------------------------


class SealRefused(ServiceError):
    """The month's rows do not verify against the audit trail: nothing is dropped until they do."""


@dataclass
class MonthOutcome:
    project_id: int
    month: date
    action: str  # sealed | held | would_seal (SQLite)
    decisions: int = 0
    outcome_versions: int = 0
    audit_seq: int | None = None
    held_by: list[int] = field(default_factory=list)
    refused: str | None = None

    def as_dict(self) -> dict:
        return {
            "project": self.project_id,
            "month": f"{self.month:%Y-%m}",
            "action": self.action,
            "decisions": self.decisions,
            "outcome_versions": self.outcome_versions,
            "audit_seq": self.audit_seq,
            "held_by": self.held_by,
            "refused": self.refused,
        }


def retention_apply(*, actor: Actor, now: datetime, project_ids: list[int] | None = None) -> list[MonthOutcome]:
    """Seal and drop every month past its project's maximum that no hold keeps (the scheduled job)."""
    policies = Policy.objects.filter(retention_max_months__isnull=False)
    if project_ids is not None:
        policies = policies.filter(project_id__in=project_ids)
    done: list[MonthOutcome] = []
    for policy in policies.order_by("project_id"):
        for month in _months(policy.project_id):
            if not expired(month, maximum=policy.retention_max_months, now=now):
                continue
            holds = holding(policy.project_id, month)
            if holds:
                done.append(MonthOutcome(policy.project_id, month, "held", held_by=[hold.pk for hold in holds]))
                continue
            try:
                done.append(month_seal_and_drop(actor=actor, project_id=policy.project_id, month=month, now=now))
            except SealRefused as exc:
                done.append(MonthOutcome(policy.project_id, month, "refused", refused=str(exc)))
    return done


def _months(project_id: int) -> list[date]:
    if partitions.is_partitioned(Decision._meta.db_table):
        return [partition.month for partition in partitions.partitions(Decision._meta.db_table, project_id=project_id)]
    # SQLite: the months that hold decisions
    stamps = Decision.objects.filter(project_id=project_id).values_list("occurred_at", flat=True)
    return sorted({month_of(stamp) for stamp in stamps.iterator()})


def month_seal_and_drop(*, actor: Actor, project_id: int, month: date, now: datetime) -> MonthOutcome:
    """Seal one project's month into the audit trail and drop its partitions, in one transaction."""
    partitioned = partitions.is_partitioned(Decision._meta.db_table)
    present: list[str] = []  # the month's partitions, locked now and dropped last
    with transaction.atomic():
        if partitioned:
            with connection.cursor() as cursor:
                # no writer adds a row between the seal and the drop; readers go on until the drop itself
                for table in (Decision._meta.db_table, OutcomeVersion._meta.db_table):
                    name = partitions.partition_name(table, project_id, month)
                    cursor.execute("SELECT to_regclass(%s)", [name])
                    if cursor.fetchone()[0] is not None:
                        cursor.execute(statement("LOCK TABLE {name} IN EXCLUSIVE MODE", name=name))
                        present.append(table)
        if SealedMonth.objects.filter(project_id=project_id, month=month).exists():
            raise SealRefused(f"{month:%Y-%m} of this project is sealed already", code="conflict")
        seal = month_seal(project_id, month)
        if not partitioned:
            return MonthOutcome(project_id, month, "would_seal", seal["decisions"], seal["outcome_versions"])
        event = audit_append(
            actor=actor,
            event_type=Event.MONTH_SEALED,
            target_type=SEAL_TARGET,
            target_id=f"{project_id}:{month:%Y-%m}",
            target_repr=f"decisions of {month:%Y-%m} (project {project_id}), sealed and dropped",
            project_id=project_id,
            after=seal,
        )
        SealedMonth.objects.create(
            project_id=project_id,
            month=month,
            decisions=seal["decisions"],
            outcome_versions=seal["outcome_versions"],
            commitments_sha256=seal["commitments_sha256"],
            seal=seal,
            audit_seq=event.seq,
            sealed_at=now,
        )
        with connection.cursor() as cursor:
            # a table with deferred foreign-key checks pending cannot be dropped: run this transaction's now
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for table in present:
            partitions.drop(table, project_id, month)
    return MonthOutcome(project_id, month, "sealed", seal["decisions"], seal["outcome_versions"], event.seq)


def _start(month: date) -> datetime:
    return datetime(month.year, month.month, 1, tzinfo=UTC)


def _month_decisions(project_id: int, month: date):
    return Decision.objects.filter(
        project_id=project_id, occurred_at__gte=_start(month), occurred_at__lt=_start(add_months(month, 1))
    )


class _Trail:
    """The audit trail's record of one model version's batches, read once per version: the ingest and outcome
    events, and the seals."""

    def __init__(self) -> None:
        self._versions: dict[int, tuple[dict, dict, dict, dict]] = {}

    def _of(self, mv: int) -> tuple[dict, dict, dict, dict]:
        if mv not in self._versions:
            self._versions[mv] = (
                recorded_batches(mv),
                recorded_outcome_batches(mv),
                recorded_seals(mv, "batches"),
                recorded_seals(mv, "outcome_batches"),
            )
        return self._versions[mv]

    def batch(self, mv: int, batch: str) -> tuple[int, str] | None:
        """(rows, commitments hash) the batch's rows must have now: the latest seal's remainder, else the event's."""
        ingested, _, seals, _ = self._of(mv)
        if seals.get(batch):
            last = seals[batch][-1][1]
            return last["remaining"], last["remaining_commitments_sha256"]
        if batch not in ingested:
            return None
        return ingested[batch][1].get("accepted"), ingested[batch][1].get("commitments_sha256")

    def outcome_batch(self, mv: int, batch: str) -> tuple[int, str] | None:
        _, recorded, _, seals = self._of(mv)
        if seals.get(batch):
            last = seals[batch][-1][1]
            return last["remaining"], last["remaining_sha256"]
        if batch not in recorded:
            return None
        return recorded[batch][1].get("recorded"), recorded[batch][1].get("versions_sha256")


def month_seal(project_id: int, month: date) -> dict:
    """What the month holds and what of its batches remains in other months, each batch checked against the
    audit trail first (its ingest or outcome event, or the seal of an earlier month)."""
    start, end = _start(month), _start(add_months(month, 1))
    trail = _Trail()
    rows = list(
        _month_decisions(project_id, month).values_list(
            "id", "model_version_id", "batch_id", "commitment", "skeleton_commitment"
        )
    )
    grouped: dict[tuple[int, str], list[tuple[str, str]]] = defaultdict(list)
    for _, mv, batch, commitment_, skeleton in rows:
        grouped[(mv, str(batch) if batch else "")].append((commitment_, skeleton))
    batches: dict[str, dict] = defaultdict(dict)
    for (mv, batch), inside in sorted(grouped.items()):
        if batch == "":
            raise SealRefused(
                f"{len(inside)} decisions of version {mv} belong to no ingest batch: run decisions/verify"
            )
        expected = trail.batch(mv, batch)
        if expected is None:
            raise SealRefused(f"batch {batch} of version {mv} is recorded by no audit event: run decisions/verify")
        outside = [] if len(inside) == expected[0] else _batch_elsewhere(mv, batch, project_id, start, end)
        if len(inside) + len(outside) != expected[0] or batch_hash([c for c, _ in inside + outside]) != expected[1]:
            raise SealRefused(f"batch {batch} of version {mv} does not match the audit trail: run decisions/verify")
        batches[str(mv)][batch] = {
            "sealed": len(inside),
            "remaining": len(outside),
            "remaining_commitments_sha256": batch_hash([c for c, _ in outside]),
            "remaining_skeletons_sha256": batch_hash([s for _, s in outside if s]),
        }
    version_of = {pk: mv for pk, mv, *_ in rows}
    outcome_rows = list(
        OutcomeVersion.objects.filter(
            project_id=project_id, decision_occurred_at__gte=start, decision_occurred_at__lt=end
        ).values_list("decision_id", "version", "outcome", "outcome_at", "batch_id")
    )
    grouped_outcomes: dict[tuple[int, str], list[str]] = defaultdict(list)
    for decision_id, version, outcome, outcome_at, batch in outcome_rows:
        if batch is None:  # the versions migration 0009 backfilled belong to no batch
            continue
        row_hash = outcome_row_hash(decision_id=decision_id, version=version, outcome=outcome, outcome_at=outcome_at)
        grouped_outcomes[(version_of[decision_id], str(batch))].append(row_hash)
    outcome_batches: dict[str, dict] = defaultdict(dict)
    for (mv, batch), inside in sorted(grouped_outcomes.items()):
        expected = trail.outcome_batch(mv, batch)
        if expected is None:
            raise SealRefused(f"outcome batch {batch} is recorded by no audit event: run decisions/verify")
        outside = [] if len(inside) == expected[0] else _outcomes_elsewhere(mv, batch, project_id, start, end)
        if len(inside) + len(outside) != expected[0] or batch_hash(inside + outside) != expected[1]:
            raise SealRefused(f"outcome batch {batch} does not match the audit trail: run decisions/verify")
        outcome_batches[str(mv)][batch] = {
            "sealed": len(inside),
            "remaining": len(outside),
            "remaining_sha256": batch_hash(outside),
        }
    return {
        "project": project_id,
        "month": f"{month:%Y-%m}",
        "decisions": len(rows),
        "outcome_versions": len(outcome_rows),
        "commitments_sha256": batch_hash([c for *_, c, _ in rows]),
        "batches": dict(batches),
        "outcome_batches": dict(outcome_batches),
    }


def _batch_elsewhere(mv: int, batch: str, project_id: int, start: datetime, end: datetime) -> list[tuple[str, str]]:
    """The rows of a batch that spans months, outside this one (the version's other months; a batch is one
    request, so they are nearly always in the month before or after)."""
    rows = Decision.objects.filter(model_version_id=mv, batch_id=batch).exclude(
        project_id=project_id, occurred_at__gte=start, occurred_at__lt=end
    )
    return list(rows.values_list("commitment", "skeleton_commitment"))


def _outcomes_elsewhere(mv: int, batch: str, project_id: int, start: datetime, end: datetime) -> list[str]:
    rows = OutcomeVersion.objects.filter(batch_id=batch, decision__model_version_id=mv).exclude(
        project_id=project_id, decision_occurred_at__gte=start, decision_occurred_at__lt=end
    )
    return [
        outcome_row_hash(decision_id=d, version=v, outcome=o, outcome_at=at)
        for d, v, o, at in rows.values_list("decision_id", "version", "outcome", "outcome_at")
    ]


def sealed_months_check(report) -> dict[str, int]:
    """`audit-events/verify/`'s check of the sealed months (registry.hooks.add_record_check): each one as its
    seal event recorded it, none without its event, none gone that an event sealed."""
    from registry.records import check_against_creation_events

    rows = SealedMonth.objects.order_by("project_id", "month").values_list("project_id", "month", "commitments_sha256")
    return {
        "governance.sealedmonth": check_against_creation_events(
            record="governance.sealedmonth",
            rows=((f"{project}:{month:%Y-%m}", sha, None) for project, month, sha in rows),
            event_type=Event.MONTH_SEALED,
            target_type=SEAL_TARGET,
            hash_key="commitments_sha256",
            report=report,
        )
    }
