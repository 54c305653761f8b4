"""Commitments that make the decision log tamper-evident yet erasable.

At ingest each decision gets a random 128-bit `salt` and

    commitment = sha256(salt_hex || canonical_decision(row))

where `canonical_decision` is the compact, key-sorted JSON of the list
`[model_version, deployment, request_id, subject_key, features, sensitive, prediction, score,
occurred_at]` (`occurred_at` as UTC ISO 8601 with microseconds, `score` a float or null), with the
decision's `explanation` appended as a tenth element when it has one (rows logged without one keep the
nine-element form, so commitments stored before explanations existed still verify). Each
ingest batch records, per model version, `sha256` of its accepted rows' commitments sorted and
concatenated, in its audit event (hash-chained). `decisions_verify` recomputes both.

Erasure deletes the salt with the personal fields and keeps the commitment: the batch hashes
and the audit chain still verify, and the erased content can no longer be confirmed by guessing.

What an erasure keeps (which version decided what, when) stays covered too: each decision also gets

    skeleton_commitment = sha256(canonical_skeleton(row))

over `[model_version, deployment, request_id, prediction, score, occurred_at]`, nothing personal so no salt,
and the ingest batch records `sha256` of its rows' skeleton commitments sorted and concatenated
(`skeletons_sha256`). A row whose skeleton was edited is named, erased or not.

Outcomes are versions (`OutcomeVersion`): each outcome batch's audit event records, per model version, the
`sha256` of the sorted `outcome_row_hash` of its rows, `sha256` of the canonical JSON of
`[decision id, version, outcome, outcome_at]`; and a decision's `outcome` must be its latest version's.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from governance.events import GovernanceEvent
from registry.models import AuditEvent

BATCH_TARGET = "governance.decisionbatch"
OUTCOME_BATCH_TARGET = "governance.outcomebatch"


def jsonb_normalise(value):
    """The value as PostgreSQL's jsonb gives it back, so commitments survive the round trip:
    -0.0 becomes 0.0, and a float written with an exponent (1e+20) comes back as the integer
    its decimal digits spell."""
    kind = type(value)
    if kind is float:
        if value == 0.0:
            return 0.0
        if -1e16 < value < 1e16:  # Python writes these without an exponent, as PostgreSQL does
            return value
        return int(Decimal(repr(value))) if "e+" in repr(value) else value
    if kind is dict:
        if not any(type(v) in _CONTAINERS_AND_FLOATS for v in value.values()):
            return value
        return {k: jsonb_normalise(v) for k, v in value.items()}
    if kind is list:
        return [jsonb_normalise(v) for v in value]
    return value


_CONTAINERS_AND_FLOATS = (float, dict, list)


# json.dumps(..., sort_keys=True, separators=(",", ":")) builds a new encoder on every call; this one is built once.
_canonical = json.JSONEncoder(sort_keys=True, separators=(",", ":")).encode


def _number(value: int | float | None) -> str:
    return str(value) if type(value) is int else _canonical(value)


@dataclass(frozen=True, slots=True)
class DecisionCanon:
    """A decision's canonical forms and the JSON of its JSON columns, each value encoded once.

    `canonical` equals canonical_decision's `json.dumps([...], sort_keys=True, separators=(",", ":"))` byte for
    byte, since that is the list's elements so encoded, joined by commas (tests/governance/test_integrity.py
    checks it against json.dumps); `skeleton` likewise for canonical_skeleton."""

    features: str
    sensitive: str
    prediction: str
    canonical: str
    skeleton: str
    explanation: str | None = None


def decision_canon(
    *,
    model_version: int,
    deployment: int | None,
    request_id: str,
    subject_key: str | None,
    features: dict,
    sensitive: dict,
    prediction: object,
    score: float | None,
    occurred_at: datetime,
    explanation: dict | None = None,
) -> DecisionCanon:
    features_json, sensitive_json, prediction_json = _canonical(features), _canonical(sensitive), _canonical(prediction)
    head = f"[{_number(model_version)},{_number(deployment)},{_canonical(request_id)},"
    tail = f"{prediction_json},{_number(score)},{_canonical(_utc_iso(occurred_at))}]"
    personal = f"{head}{_canonical(subject_key)},{features_json},{sensitive_json},{tail}"
    explanation_json = None if explanation is None else _canonical(explanation)
    return DecisionCanon(
        features=features_json,
        sensitive=sensitive_json,
        prediction=prediction_json,
        canonical=personal if explanation_json is None else f"{personal[:-1]},{explanation_json}]",
        skeleton=head + tail,
        explanation=explanation_json,
    )


def _utc_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def canonical_decision(
    *,
    model_version: int,
    deployment: int | None,
    request_id: str,
    subject_key: str | None,
    features: dict,
    sensitive: dict,
    prediction: object,
    score: float | None,
    occurred_at: datetime,
    explanation: dict | None = None,
) -> str:
    """The compact, key-sorted JSON of `[model_version, deployment, request_id, subject_key, features, sensitive,
    prediction, score, occurred_at]`, and `explanation` after them when there is one."""
    return decision_canon(
        model_version=model_version,
        deployment=deployment,
        request_id=request_id,
        subject_key=subject_key,
        features=features,
        sensitive=sensitive,
        prediction=prediction,
        score=score,
        occurred_at=occurred_at,
        explanation=explanation,
    ).canonical


def canonical_skeleton(
    *,
    model_version: int,
    deployment: int | None,
    request_id: str,
    prediction: object,
    score: float | None,
    occurred_at: datetime,
) -> str:
    """The compact, key-sorted JSON of `[model_version, deployment, request_id, prediction, score, occurred_at]`."""
    head = f"[{_number(model_version)},{_number(deployment)},{_canonical(request_id)},"
    return f"{head}{_canonical(prediction)},{_number(score)},{_canonical(_utc_iso(occurred_at))}]"


def skeleton_commitment(canonical: str) -> str:
    return hashlib.sha256(canonical.encode()).hexdigest()


def outcome_row_hash(*, decision_id: int, version: int, outcome: object, outcome_at: datetime) -> str:
    canonical = json.dumps(
        [decision_id, version, outcome, outcome_at.astimezone(UTC).isoformat(timespec="microseconds")],
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def commitment(salt: str, canonical: str) -> str:
    return hashlib.sha256((salt + canonical).encode()).hexdigest()


def batch_hash(commitments: list[str]) -> str:
    return hashlib.sha256("".join(sorted(commitments)).encode()).hexdigest()


@dataclass
class DecisionVerification:
    model_version: int
    rows_checked: int = 0
    erased_rows: int = 0
    batches_checked: int = 0
    bad_rows: list[dict] = field(default_factory=list)
    bad_batches: list[dict] = field(default_factory=list)
    batches_sealed: int = 0  # wholly in months retention sealed and dropped
    sealed_months: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.bad_rows and not self.bad_batches

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "model_version": self.model_version,
            "rows_checked": self.rows_checked,
            "erased_rows": self.erased_rows,
            "batches_checked": self.batches_checked,
            "bad_rows": self.bad_rows,
            "bad_batches": self.bad_batches,
            "batches_sealed": self.batches_sealed,
            "sealed_months": self.sealed_months,
        }


def decisions_verify(*, model_version_id: int, max_reported: int = 1000) -> DecisionVerification:
    """Recompute every row's commitments, every ingest batch hash and every outcome batch hash of one model
    version's decisions, and check that each decision's outcome is its latest recorded version."""
    from governance.models import Decision, OutcomeVersion

    result = DecisionVerification(model_version=model_version_id)
    by_batch: dict[str, list[str]] = {}
    skeletons: dict[str, list[str]] = {}
    latest: dict[int, tuple[object, datetime]] = {}
    by_outcome_batch: dict[str, list[str]] = {}
    versions = (
        OutcomeVersion.objects.filter(decision__model_version_id=model_version_id)
        .order_by("decision_id", "version")
        .values_list("decision_id", "version", "outcome", "outcome_at", "batch_id")
    )
    for decision_id, version, outcome, outcome_at, outcome_batch in versions.iterator(chunk_size=5000):
        latest[decision_id] = (outcome, outcome_at)
        if outcome_batch is not None:  # the versions backfilled by migration 0010 belong to no batch
            by_outcome_batch.setdefault(str(outcome_batch), []).append(
                outcome_row_hash(decision_id=decision_id, version=version, outcome=outcome, outcome_at=outcome_at)
            )
    rows = (
        Decision.objects.filter(model_version_id=model_version_id)
        .order_by("id")
        .values_list(
            "id",
            "batch_id",
            "salt",
            "commitment",
            "erased_at",
            "deployment_id",
            "request_id",
            "subject_key",
            "features",
            "sensitive",
            "prediction",
            "score",
            "occurred_at",
            "skeleton_commitment",
            "outcome",
            "outcome_at",
            "explanation",
        )
    )
    for (
        pk,
        batch,
        salt,
        stored,
        erased_at,
        deployment,
        request_id,
        key,
        features,
        sensitive,
        prediction,
        score,
        occurred_at,
        stored_skeleton,
        outcome,
        outcome_at,
        explanation,
    ) in rows.iterator(chunk_size=5000):
        result.rows_checked += 1
        batch_key = str(batch) if batch else ""
        by_batch.setdefault(batch_key, []).append(stored)
        if stored_skeleton:
            skeletons.setdefault(batch_key, []).append(stored_skeleton)
        if pk in latest:
            if latest.pop(pk) != (outcome, outcome_at):
                _report(
                    result.bad_rows,
                    max_reported,
                    {"id": pk, "request_id": request_id, "reason": "outcome differs from its latest recorded version"},
                )
        elif outcome is not None:
            _report(
                result.bad_rows,
                max_reported,
                {"id": pk, "request_id": request_id, "reason": "outcome recorded by no outcome version"},
            )
        if salt is None:  # an erased row: only its skeleton is left to check (the salted commitment covers the rest)
            if erased_at is None:
                _report(result.bad_rows, max_reported, {"id": pk, "request_id": request_id, "reason": "salt missing"})
            else:
                result.erased_rows += 1
                if key is not None or features or sensitive or explanation is not None:  # put back, or never erased
                    _report(
                        result.bad_rows,
                        max_reported,
                        {"id": pk, "request_id": request_id, "reason": "erased decision still holds personal fields"},
                    )
            if stored_skeleton:
                canonical = canonical_skeleton(
                    model_version=model_version_id,
                    deployment=deployment,
                    request_id=request_id,
                    prediction=prediction,
                    score=score,
                    occurred_at=occurred_at,
                )
                if skeleton_commitment(canonical) != stored_skeleton:
                    _report(
                        result.bad_rows,
                        max_reported,
                        {
                            "id": pk,
                            "request_id": request_id,
                            "reason": "skeleton does not match its skeleton commitment",
                        },
                    )
            continue
        canonical = canonical_decision(
            model_version=model_version_id,
            deployment=deployment,
            request_id=request_id,
            subject_key=key,
            features=features,
            sensitive=sensitive,
            prediction=prediction,
            score=score,
            occurred_at=occurred_at,
            explanation=explanation,
        )
        if commitment(salt, canonical) != stored:
            _report(
                result.bad_rows,
                max_reported,
                {"id": pk, "request_id": request_id, "reason": "content does not match its commitment"},
            )

    recorded = recorded_batches(model_version_id)
    seals = recorded_seals(model_version_id, "batches")
    result.sealed_months = _sealed_months(model_version_id)
    for batch in sorted(set(by_batch) | set(recorded)):
        result.batches_checked += 1
        commitments = by_batch.get(batch, [])
        if batch in seals and batch in recorded:
            # part or all of the batch lies in sealed months: what remains must be what the latest seal says
            # remains, and the seals and the remainder must add up to what the ingest event recorded
            seq, last = seals[batch][-1]
            total = sum(record["sealed"] for _, record in seals[batch]) + last["remaining"]
            if (
                total != recorded[batch][1].get("accepted")
                or last["remaining"] != len(commitments)
                or last["remaining_commitments_sha256"] != batch_hash(commitments)
                or last["remaining_skeletons_sha256"] != batch_hash(skeletons.get(batch, []))
            ):
                _report(
                    result.bad_batches,
                    max_reported,
                    {
                        "batch": batch,
                        "audit_seq": seq,
                        "rows": len(commitments),
                        "recorded_rows": last["remaining"],
                        "reason": f"rows do not match what the seal of {last['month']} left of the batch",
                    },
                )
            result.batches_sealed += last["remaining"] == 0
            continue
        if batch == "":
            _report(
                result.bad_batches,
                max_reported,
                {"batch": None, "rows": len(commitments), "reason": "rows belong to no ingest batch"},
            )
        elif batch not in recorded:
            _report(
                result.bad_batches,
                max_reported,
                {"batch": batch, "rows": len(commitments), "reason": "no audit event records this batch"},
            )
        else:
            seq, expected = recorded[batch]
            if (
                expected.get("accepted") != len(commitments)
                or expected.get("commitments_sha256") != batch_hash(commitments)
                or (
                    "skeletons_sha256" in expected
                    and expected["skeletons_sha256"] != batch_hash(skeletons.get(batch, []))
                )
            ):
                _report(
                    result.bad_batches,
                    max_reported,
                    {
                        "batch": batch,
                        "audit_seq": seq,
                        "rows": len(commitments),
                        "recorded_rows": expected.get("accepted"),
                        "reason": "rows do not match the batch hash recorded in the audit trail",
                    },
                )
    recorded_outcomes = recorded_outcome_batches(model_version_id)
    outcome_seals = recorded_seals(model_version_id, "outcome_batches")
    for batch in sorted(set(by_outcome_batch) | set(recorded_outcomes)):
        result.batches_checked += 1
        hashes = by_outcome_batch.get(batch, [])
        if batch in outcome_seals and batch in recorded_outcomes:
            seq, last = outcome_seals[batch][-1]
            total = sum(record["sealed"] for _, record in outcome_seals[batch]) + last["remaining"]
            if (
                total != recorded_outcomes[batch][1].get("recorded")
                or last["remaining"] != len(hashes)
                or last["remaining_sha256"] != batch_hash(hashes)
            ):
                _report(
                    result.bad_batches,
                    max_reported,
                    {
                        "outcome_batch": batch,
                        "audit_seq": seq,
                        "rows": len(hashes),
                        "recorded_rows": last["remaining"],
                        "reason": f"outcome versions do not match what the seal of {last['month']} left of the batch",
                    },
                )
            continue
        if batch not in recorded_outcomes:
            _report(
                result.bad_batches,
                max_reported,
                {"outcome_batch": batch, "rows": len(hashes), "reason": "no audit event records this outcome batch"},
            )
            continue
        seq, expected = recorded_outcomes[batch]
        if expected.get("recorded") != len(hashes) or expected.get("versions_sha256") != batch_hash(hashes):
            _report(
                result.bad_batches,
                max_reported,
                {
                    "outcome_batch": batch,
                    "audit_seq": seq,
                    "rows": len(hashes),
                    "recorded_rows": expected.get("recorded"),
                    "reason": "outcome versions do not match the hash recorded in the audit trail",
                },
            )
    return result


def recorded_outcome_batches(model_version_id: int) -> dict[str, tuple[int, dict]]:
    key = str(model_version_id)
    events = AuditEvent.objects.filter(
        event_type=GovernanceEvent.OUTCOMES_RECORDED, target_type=OUTCOME_BATCH_TARGET, after__versions__has_key=key
    ).values_list("seq", "target_id", "after")
    return {target_id: (seq, after["versions"][key]) for seq, target_id, after in events}


def recorded_batches(model_version_id: int) -> dict[str, tuple[int, dict]]:
    key = str(model_version_id)
    events = AuditEvent.objects.filter(
        event_type=GovernanceEvent.DECISIONS_INGESTED, target_type=BATCH_TARGET, after__model_versions__has_key=key
    ).values_list("seq", "target_id", "after")
    return {target_id: (seq, after["model_versions"][key]) for seq, target_id, after in events}


def _report(bucket: list[dict], limit: int, entry: dict) -> None:
    if len(bucket) < limit:
        bucket.append(entry)


def recorded_seals(model_version_id: int, kind: str) -> dict[str, list[tuple[int, dict]]]:
    """Per batch of this version, what each month's seal recorded of it (`kind` "batches" or "outcome_batches"),
    oldest seal first (governance/services/retention.py)."""
    key = str(model_version_id)
    events = (
        AuditEvent.objects.filter(event_type=GovernanceEvent.MONTH_SEALED, **{f"after__{kind}__has_key": key})
        .order_by("seq")
        .values_list("seq", "after")
    )
    seals: dict[str, list[tuple[int, dict]]] = {}
    for seq, after in events:
        for batch, record in after[kind][key].items():
            seals.setdefault(batch, []).append((seq, {**record, "month": after["month"]}))
    return seals


def _sealed_months(model_version_id: int) -> list[dict]:
    """The months retention sealed and dropped that held this version's decisions, from their audit events."""
    key = str(model_version_id)
    events = (
        AuditEvent.objects.filter(event_type=GovernanceEvent.MONTH_SEALED, after__batches__has_key=key)
        .order_by("seq")
        .values_list("seq", "hash", "after")
    )
    return [
        {
            "month": after["month"],
            "decisions": sum(record["sealed"] for record in after["batches"][key].values()),
            "audit_seq": seq,
            "audit_hash": chain_hash,
        }
        for seq, chain_hash, after in events
    ]
