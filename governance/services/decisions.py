"""Decision log writes: bulk ingest (idempotent) and outcomes."""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from secrets import token_hex

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from governance.columns import COPY_COLUMNS
from governance.events import GovernanceEvent as Event
from governance.integrity import (
    BATCH_TARGET,
    OUTCOME_BATCH_TARGET,
    batch_hash,
    commitment,
    decision_canon,
    outcome_row_hash,
    skeleton_commitment,
)
from governance.integrity import jsonb_normalise as normalise
from governance.models import Decision, OutcomeVersion, Policy, SealedMonth
from governance.permissions import DECISION_INGESTERS
from governance.services.drift_counts import decisions_counted
from governance.services.reviews import Candidate, review_queue_enter
from registry import bulk, partitions
from registry.actors import Actor
from registry.audit import audit_append
from registry.locks import for_update
from registry.models import Deployment, ModelVersion, Project, SuppressedSubject
from registry.partitions import month_of
from registry.services import suppressed_keys
from registry.subjects import InvalidSubjectId, current_key_id, mentions_subject_id, subject_key, suppression_lock
from registry.validation import BulkErrors, check_items, is_finite_number, is_int, parse_timestamp

MAX_DECISIONS_PER_REQUEST = 10_000
MAX_OUTCOMES_PER_REQUEST = 10_000

DECISION_FIELDS = frozenset(
    {
        "model_version",
        "deployment",
        "request_id",
        "subject_id",
        "features",
        "sensitive",
        "prediction",
        "score",
        "occurred_at",
        "explanation",
    }
)
EXPLANATION_FIELDS = frozenset({"attributions", "base_value", "library", "library_version", "method", "reason_codes"})
MAX_ATTRIBUTIONS = 1000
MAX_REASON_CODES = 20
OUTCOME_FIELDS = frozenset(
    {"model_version", "request_id", "occurred_at", "outcome", "outcome_at", "correction", "reason"}
)
COMMITMENT = COPY_COLUMNS.index("commitment")
MODEL_VERSION = COPY_COLUMNS.index("model_version_id")
REQUEST_ID = COPY_COLUMNS.index("request_id")
OCCURRED_AT = COPY_COLUMNS.index("occurred_at")


def _is_scalar(value: object) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, (str, int, bool))  # JSON numbers may be large: jsonb stores them exactly


def _int_values(items: Sequence[object], name: str) -> set[int]:
    return {value for item in items if isinstance(item, dict) and is_int(value := item.get(name))}


def _model_versions_in_scope(actor: Actor, ids: set[int]) -> dict[int, ModelVersion]:
    scope = actor.project_ids(DECISION_INGESTERS)
    queryset = ModelVersion.objects.filter(pk__in=ids)
    if scope is not None:
        queryset = queryset.filter(project_id__in=scope)
    return {mv.pk: mv for mv in queryset.select_related("model").only("id", "project_id", "model__risk_tier")}


def _deployments_in_scope(actor: Actor, ids: set[int]) -> dict[int, int]:
    """Deployment id -> the model version it serves, for the deployments the actor may log to."""
    scope = actor.project_ids(DECISION_INGESTERS)
    queryset = Deployment.objects.filter(pk__in=ids)
    if scope is not None:
        queryset = queryset.filter(project_id__in=scope)
    return dict(queryset.values_list("pk", "model_version_id"))


@dataclass(frozen=True)
class IngestResult:
    accepted: int
    duplicates: int
    subjects_stripped: int = 0
    batch: str | None = None


@dataclass(slots=True)
class ValidDecision:
    """One decision item that passed validation, as the batch's COPY row is built from it. Treated as immutable
    (suppression makes a stripped copy with `replace`) but not `frozen`: a frozen dataclass's generated
    __init__ sets each field through object.__setattr__, which on CPython 3.11 costs several microseconds per
    item for these twelve fields (a quarter of validating one), against a few tenths for a plain slotted one,
    on a path that handles 10,000 items a request."""

    index: int  # in the request, for per-item errors found later (suppression)
    project_id: int
    model_version_id: int
    deployment_id: int | None
    request_id: str
    subject_key: str | None
    features: dict
    sensitive: dict
    prediction: object
    score: int | float | None
    occurred_at: datetime
    erased_at: datetime | None = None  # set for a stripped subject's row
    explanation: dict | None = None


@dataclass(frozen=True, slots=True)
class _Writer:
    """Who writes the batch, as every row records it."""

    key_id: str  # the subject key's HMAC key id
    key_pk: int | None
    user_pk: int | None


@dataclass(slots=True)
class _Scope:
    """What validating one item needs from the batch: the versions and deployments the actor may log to, and
    the (model version, request id) pairs seen so far."""

    versions: dict[int, ModelVersion]
    deployments: dict[int, int]
    seen: dict[tuple[int, str], int]
    reason_codes: dict[int, dict] | None = None  # per project, read when the batch has an explanation

    def codes(self, project_id: int) -> dict:
        if self.reason_codes is None:
            projects = {version.project_id for version in self.versions.values()}
            self.reason_codes = dict(
                Policy.objects.filter(project_id__in=projects).values_list("project_id", "reason_codes")
            )
        return self.reason_codes.get(project_id) or {}


LOG_TABLES = (Decision._meta.db_table, OutcomeVersion._meta.db_table)


def ensure_log_partitions(keys: set[tuple[int, date]]) -> None:
    """The partitions of these (project, month) keys in the decision log and in the outcome history, which is
    partitioned alike so that an outcome always finds its decision's month (registry/partitions.py)."""
    for table in LOG_TABLES:
        partitions.ensure(table, keys)


def decisions_ingest(*, actor: Actor, items: Sequence[object]) -> IngestResult:
    """Validate a whole batch of decisions, then insert those not yet logged.

    Idempotent on (model_version, request_id, occurred_at), the log's unique key with its partition's: a retried
    batch reports its rows as duplicates. The same request id at another time is another decision (a search of
    every month for it would cost each row a probe per partition); outcomes and contests then ask for the time.
    """
    items = check_items(items, "decisions", MAX_DECISIONS_PER_REQUEST)
    errors = BulkErrors("decisions")
    scope = _Scope(
        versions=_model_versions_in_scope(actor, _int_values(items, "model_version")),
        deployments=_deployments_in_scope(actor, _int_values(items, "deployment")),
        seen={},
    )
    writer = _Writer(
        key_id=current_key_id(),
        key_pk=actor.api_key.pk if actor.api_key is not None else None,
        user_pk=actor.user.pk if actor.user is not None else None,
    )
    now = timezone.now()
    valid = [decision for index, item in enumerate(items) if (decision := _validated(index, item, scope, errors))]
    _refuse_sealed_months(valid, errors)
    errors.raise_if_any()

    batch = uuid.uuid4()
    # each project and month the batch falls in needs its partitions, created before the transaction
    ensure_log_partitions({(d.project_id, month_of(d.occurred_at)) for d in valid})
    with transaction.atomic():
        # the suppression check and the insert under the lock erasure execution takes exclusively
        stripped = _apply_suppression(valid, errors, now)
        errors.raise_if_any()
        rows, counted = _decision_rows(valid, batch=batch, now=now, writer=writer)
        inserted = _insert(rows)
        if inserted:
            if len(inserted) < len(rows):  # duplicates were not inserted: count only the rows that were
                new = {row_commitment for _, row_commitment, _, _ in inserted}
                counted = [decision for decision, row in zip(counted, rows, strict=True) if row[COMMITMENT] in new]
            decisions_counted(counted)
            _audit_batch(actor, batch, inserted, duplicates=len(rows) - len(inserted), stripped=stripped)
            review_queue_enter(
                batch=batch,
                candidates=[
                    Candidate(d.project_id, d.model_version_id, d.request_id, d.prediction, d.score) for d in valid
                ],
                risk_tiers={pk: version.model.risk_tier for pk, version in scope.versions.items()},
                now=now,
            )
    return IngestResult(
        accepted=len(inserted),
        duplicates=len(rows) - len(inserted),
        subjects_stripped=stripped,
        batch=str(batch) if inserted else None,
    )


def _refuse_sealed_months(valid: list[ValidDecision], errors: BulkErrors) -> None:
    """A month retention sealed and dropped takes no decision again: its seal says what it held."""
    keys = {(decision.project_id, month_of(decision.occurred_at)) for decision in valid}
    sealed = set(
        SealedMonth.objects.filter(
            project_id__in={project for project, _ in keys}, month__in={month for _, month in keys}
        ).values_list("project_id", "month")
    )
    for decision in valid:
        month = month_of(decision.occurred_at)
        if (decision.project_id, month) in sealed:
            errors.add(
                decision.index,
                "occurred_at",
                f"falls in {month:%Y-%m}, which retention sealed and dropped for this project: it takes no decisions",
            )


def _validated(index: int, item: object, scope: _Scope, errors: BulkErrors) -> ValidDecision | None:
    """One item checked field by field (every problem added to `errors`); the ValidDecision when it has none."""
    if not isinstance(item, dict):
        errors.add(index, None, "must be an object")
        return None
    before = errors.count
    unknown = item.keys() - DECISION_FIELDS
    for name in sorted(unknown):
        errors.add(index, name, "is not a known field")

    mv_id = item.get("model_version")
    version = None
    if mv_id is None:
        errors.add(index, "model_version", "is required")
    elif not is_int(mv_id):
        errors.add(index, "model_version", "must be an integer id")
    else:
        version = scope.versions.get(mv_id)
        if version is None:
            errors.add(index, "model_version", f"model version {mv_id} does not exist")

    deployment_id = item.get("deployment")
    if deployment_id is not None:
        if not is_int(deployment_id):
            errors.add(index, "deployment", "must be an integer id")
        elif scope.deployments.get(deployment_id) is None:
            errors.add(index, "deployment", f"deployment {deployment_id} does not exist")
        elif version is not None and scope.deployments[deployment_id] != mv_id:
            errors.add(index, "deployment", f"deployment {deployment_id} does not serve model version {mv_id}")

    request_id = item.get("request_id")
    if not isinstance(request_id, str) or not request_id.strip():
        errors.add(index, "request_id", "is required and must be a non-empty string")
    elif len(request_id) > 200:
        errors.add(index, "request_id", "must be at most 200 characters")
    elif is_int(mv_id):
        first = scope.seen.setdefault((mv_id, request_id), index)
        if first != index:
            errors.add(index, "request_id", f"repeats the request_id of decisions[{first}]")

    key = None
    raw_subject = item.get("subject_id")
    if raw_subject is not None:
        try:
            key = subject_key(raw_subject)
        except InvalidSubjectId as exc:
            errors.add(index, "subject_id", str(exc))
        if mentions_subject_id(request_id, raw_subject):  # the request id outlives an erasure
            errors.add(index, "request_id", "must not contain the subject id")

    features = item.get("features")
    if not isinstance(features, dict):
        errors.add(index, "features", "is required and must be an object")
    sensitive = item.get("sensitive")
    if sensitive is None:
        sensitive = {}
    elif not isinstance(sensitive, dict):
        errors.add(index, "sensitive", "must be an object")

    prediction = item.get("prediction")
    if prediction is None:
        errors.add(index, "prediction", "is required")
    elif not _is_scalar(prediction):
        errors.add(index, "prediction", "must be a string, number or boolean")

    score = item.get("score")
    if score is not None and not is_finite_number(score):
        errors.add(index, "score", "must be a finite number")

    occurred_at = None
    if item.get("occurred_at") is None:
        errors.add(index, "occurred_at", "is required")
    else:
        try:
            occurred_at = parse_timestamp(item["occurred_at"])
        except ValueError as exc:
            errors.add(index, "occurred_at", str(exc))

    explanation = item.get("explanation")
    if explanation is not None:
        codes = scope.codes(version.project_id) if version is not None else {}
        for name, message in check_explanation(explanation, codes):
            errors.add(index, name, message)

    if errors.count != before:
        return None
    return ValidDecision(
        index,
        version.project_id,
        mv_id,
        deployment_id,
        request_id,
        key,
        features,
        sensitive,
        prediction,
        score,
        occurred_at,
        explanation=explanation,
    )


def check_explanation(explanation: object, reason_codes: dict) -> list[tuple[str, str]]:
    """What is wrong with a decision's explanation, as (field, message) pairs: `attributions` an object of
    feature -> finite number (at most 1,000), `base_value` a finite number, `library`, `library_version` and
    `method` short strings, `reason_codes` distinct codes of the project's catalogue (Policy.reason_codes)."""
    if not isinstance(explanation, dict):
        return [("explanation", "must be an object")]
    problems = [
        (f"explanation.{name}", "is not a known field") for name in sorted(explanation.keys() - EXPLANATION_FIELDS)
    ]
    attributions = explanation.get("attributions")
    if not isinstance(attributions, dict) or not attributions:
        problems.append(("explanation.attributions", "is required: an object of feature -> contribution"))
    elif len(attributions) > MAX_ATTRIBUTIONS:
        problems.append(("explanation.attributions", f"must hold at most {MAX_ATTRIBUTIONS:,} features"))
    elif not all(is_finite_number(value) for value in attributions.values()):
        bad = sorted(name for name, value in attributions.items() if not is_finite_number(value))[:5]
        problems.append(("explanation.attributions", f"must be finite numbers (not for {', '.join(bad)})"))
    if "base_value" in explanation and not is_finite_number(explanation["base_value"]):
        problems.append(("explanation.base_value", "must be a finite number"))
    for name, limit in (("library", 100), ("library_version", 50), ("method", 100)):
        value = explanation.get(name)
        if value is not None and (not isinstance(value, str) or len(value) > limit):
            problems.append((f"explanation.{name}", f"must be a string of at most {limit} characters"))
    codes = explanation.get("reason_codes")
    if codes is not None:
        if not isinstance(codes, list) or not all(isinstance(code, str) for code in codes):
            problems.append(("explanation.reason_codes", "must be a list of codes"))
        elif len(codes) > MAX_REASON_CODES or len(set(codes)) != len(codes):
            problems.append(("explanation.reason_codes", f"must be at most {MAX_REASON_CODES} distinct codes"))
        elif unknown := [code for code in codes if code not in reason_codes]:
            problems.append(
                (
                    "explanation.reason_codes",
                    f"{', '.join(unknown[:5])} not in the project's reason-code catalogue (policy reason_codes)",
                )
            )
    return problems


def _apply_suppression(valid: list[ValidDecision], errors: BulkErrors, now: datetime) -> int:
    """Subjects erased from a project: refuse their decisions, or keep them stripped of the subject and its
    personal fields (as an erased decision: features and sensitive empty, erased_at set; the commitment then
    covers the stripped row), as the project says. Takes the suppression lock of the batch's projects first:
    call inside the insert's transaction. Returns how many subjects were dropped."""
    keyed: dict[int, set[str]] = {}
    for decision in valid:
        if decision.subject_key is not None:
            keyed.setdefault(decision.project_id, set()).add(decision.subject_key)
    if not keyed:
        return 0
    suppression_lock(keyed)
    if not SuppressedSubject.objects.filter(project_id__in=keyed).exists():
        return 0
    suppressed: dict[int, set[str]] = {
        project_id: suppressed_keys(project_id=project_id, keys=list(keys)) for project_id, keys in keyed.items()
    }
    policy = dict(Project.objects.filter(pk__in=keyed).values_list("pk", "erased_subject_ingest"))
    stripped = 0
    for position, decision in enumerate(valid):
        if decision.subject_key is None or decision.subject_key not in suppressed.get(decision.project_id, ()):
            continue
        if policy[decision.project_id] == Project.ErasedSubjectIngest.STRIP:
            valid[position] = replace(
                decision, subject_key=None, features={}, sensitive={}, explanation=None, erased_at=now
            )
            stripped += 1
        else:
            errors.add(
                decision.index, "subject_id", "this subject was erased from the project; the decision is refused"
            )
    return stripped


def _decision_rows(
    valid: list[ValidDecision], *, batch: uuid.UUID, now: datetime, writer: _Writer
) -> tuple[list[tuple], list[tuple]]:
    """The COPY rows (in COPY_COLUMNS order) of the valid decisions, each with its salt and commitment, and the
    drift counts' (model version, occurred_at, features) of each row. The one place a row is built: the
    SQLite path inserts the same rows."""
    rows: list[tuple] = []
    counted: list[tuple] = []
    for decision in valid:
        mv_id, deployment_id, request_id, key = (
            decision.model_version_id,
            decision.deployment_id,
            decision.request_id,
            decision.subject_key,
        )
        features, sensitive = normalise(decision.features), normalise(decision.sensitive)
        explanation = None if decision.explanation is None else normalise(decision.explanation)
        prediction = normalise(decision.prediction)
        score = None if decision.score is None else float(decision.score)
        occurred_at = decision.occurred_at.astimezone(UTC)
        salt = token_hex(16)
        counted.append((mv_id, occurred_at, features))
        canon = decision_canon(
            model_version=mv_id,
            deployment=deployment_id,
            request_id=request_id,
            subject_key=key,
            features=features,
            sensitive=sensitive,
            prediction=prediction,
            score=score,
            occurred_at=occurred_at,
            explanation=explanation,
        )
        rows.append(
            (
                decision.project_id,
                mv_id,
                deployment_id,
                request_id,
                key,
                writer.key_id if key else "",
                canon.features,
                canon.sensitive,
                canon.prediction,
                score,
                occurred_at,
                now,
                writer.key_pk,
                writer.user_pk,
                salt,
                commitment(salt, canon.canonical),
                batch,
                skeleton_commitment(canon.skeleton),
                decision.erased_at,
                canon.explanation,
            )
        )
    return rows, counted


def _insert(rows: list[tuple]) -> list[tuple]:
    """Insert the rows not yet logged; answers (model_version_id, commitment, project_id, skeleton_commitment)
    of each row inserted."""
    if bulk.is_postgresql():
        return bulk.copy_insert_ignore(
            table=Decision._meta.db_table,
            columns=COPY_COLUMNS,
            rows=rows,
            conflict=("project_id", "model_version_id", "request_id", "occurred_at"),
            returning=("model_version_id", "commitment", "project_id", "skeleton_commitment"),
        )
    return _insert_without_copy(rows)


def _audit_batch(actor: Actor, batch: uuid.UUID, inserted: list[tuple], *, duplicates: int, stripped: int) -> None:
    """One audit event per ingest batch, holding per model version the hash of its rows' commitments and the
    hash of their skeleton commitments."""
    by_version: dict[int, list[str]] = {}
    skeletons: dict[int, list[str]] = {}
    projects: set[int] = set()
    for mv_id, row_commitment, project_id, row_skeleton in inserted:
        by_version.setdefault(mv_id, []).append(row_commitment)
        skeletons.setdefault(mv_id, []).append(row_skeleton)
        projects.add(project_id)
    audit_append(
        actor=actor,
        event_type=Event.DECISIONS_INGESTED,
        target_type=BATCH_TARGET,
        target_id=batch,
        target_repr=f"decision batch {batch}",
        project_id=min(projects) if len(projects) == 1 else None,
        after={
            "accepted": len(inserted),
            "duplicates": duplicates,
            "subjects_stripped": stripped,
            "projects": sorted(projects),
            "model_versions": {
                str(mv): {
                    "accepted": len(items),
                    "commitments_sha256": batch_hash(items),
                    "skeletons_sha256": batch_hash(skeletons[mv]),
                }
                for mv, items in sorted(by_version.items())
            },
        },
    )


def _insert_without_copy(rows: list[tuple]) -> list[tuple]:
    """The SQLite path: skip rows already logged (the same version, request id and time), bulk_create the rest;
    returns what the COPY path returns."""
    by_version: dict[int, list[str]] = {}
    for row in rows:
        by_version.setdefault(row[MODEL_VERSION], []).append(row[REQUEST_ID])
    existing: set[tuple[int, str, datetime]] = set()
    for mv_id, request_ids in by_version.items():
        for start in range(0, len(request_ids), 500):
            existing.update(
                Decision.objects.filter(
                    model_version_id=mv_id, request_id__in=request_ids[start : start + 500]
                ).values_list("model_version_id", "request_id", "occurred_at")
            )
    loads = json.loads
    new = [
        Decision(**dict(zip(COPY_COLUMNS, row, strict=True)))
        for row in rows
        if (row[MODEL_VERSION], row[REQUEST_ID], row[OCCURRED_AT]) not in existing
    ]
    for decision in new:
        decision.features = loads(decision.features)
        decision.sensitive = loads(decision.sensitive)
        decision.prediction = loads(decision.prediction)
        if decision.explanation is not None:
            decision.explanation = loads(decision.explanation)
    Decision.objects.bulk_create(new, batch_size=500)
    return [(d.model_version_id, d.commitment, d.project_id, d.skeleton_commitment) for d in new]


def _one_per_request(found: list[Decision], wanted: dict, errors: BulkErrors) -> list[Decision]:
    """The decision each outcome is for: a request id that names decisions at several times (the log's key has
    the time) takes the item's `occurred_at` to choose; without it, or when it matches none, the item is
    refused. Pairs with no decision at all stay in `wanted` (reported unknown)."""
    by_pair: dict[tuple[int, str], list[Decision]] = {}
    for decision in found:
        by_pair.setdefault((decision.model_version_id, decision.request_id), []).append(decision)
    chosen = []
    for pair, decisions in by_pair.items():
        index, *_, occurred_at = wanted[pair]
        if occurred_at is not None:
            decisions = [d for d in decisions if d.occurred_at == occurred_at]
            if not decisions:
                errors.add(index, "occurred_at", "no decision of this request id was logged at this time")
                continue
        if len(decisions) > 1:
            errors.add(
                index,
                "occurred_at",
                f"is required: request id {pair[1]!r} names {len(decisions)} decisions of this version, logged at "
                "different times",
            )
            continue
        chosen.append(decisions[0])
    return chosen


@dataclass(frozen=True)
class OutcomeResult:
    updated: int
    unknown: list[dict]
    corrected: int = 0


MAX_REASON_LENGTH = 2000


def outcomes_record(*, actor: Actor, items: Sequence[object]) -> OutcomeResult:
    """Attach ground truth to logged decisions; reports the (model_version, request_id) pairs not found.

    An outcome is written once: a decision that has one takes another only as a correction (`"correction":
    true` with a `reason`), which becomes its next OutcomeVersion. Erased decisions take none. Each batch's
    audit event holds the hash of the versions it wrote (governance/integrity.py)."""
    items = check_items(items, "outcomes", MAX_OUTCOMES_PER_REQUEST)
    errors = BulkErrors("outcomes")
    versions = _model_versions_in_scope(actor, _int_values(items, "model_version"))
    now = timezone.now()
    wanted: dict[tuple[int, str], tuple[int, object, datetime, bool, str]] = {}
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            errors.add(index, None, "must be an object")
            continue
        before = errors.count
        for name in sorted(item.keys() - OUTCOME_FIELDS):
            errors.add(index, name, "is not a known field")
        mv_id = item.get("model_version")
        if not is_int(mv_id):
            errors.add(index, "model_version", "is required and must be an integer id")
        elif mv_id not in versions:
            errors.add(index, "model_version", f"model version {mv_id} does not exist")
        request_id = item.get("request_id")
        if not isinstance(request_id, str) or not request_id.strip():
            errors.add(index, "request_id", "is required and must be a non-empty string")
        outcome = item.get("outcome")
        if outcome is None:
            errors.add(index, "outcome", "is required")
        elif not _is_scalar(outcome):
            errors.add(index, "outcome", "must be a string, number or boolean")
        outcome_at = now
        if item.get("outcome_at") is not None:
            try:
                outcome_at = parse_timestamp(item["outcome_at"])
            except ValueError as exc:
                errors.add(index, "outcome_at", str(exc))
        occurred_at = None  # which of the request id's decisions, when it names more than one
        if item.get("occurred_at") is not None:
            try:
                occurred_at = parse_timestamp(item["occurred_at"])
            except ValueError as exc:
                errors.add(index, "occurred_at", str(exc))
        correction = item.get("correction", False)
        if not isinstance(correction, bool):
            errors.add(index, "correction", "must be true or false")
        reason = item.get("reason")
        if correction is True and (not isinstance(reason, str) or not reason.strip()):
            errors.add(index, "reason", "is required with a correction and must be a non-empty string")
        elif correction is not True and reason is not None:
            errors.add(index, "reason", 'is given only with "correction": true')
        elif isinstance(reason, str) and len(reason) > MAX_REASON_LENGTH:
            errors.add(index, "reason", f"must be at most {MAX_REASON_LENGTH} characters")
        if errors.count == before:
            pair = (mv_id, request_id)
            if pair in wanted:
                errors.add(index, "request_id", f"repeats the request_id of outcomes[{wanted[pair][0]}]")
            else:
                wanted[pair] = (index, outcome, outcome_at, correction, reason or "", occurred_at)
    errors.raise_if_any()

    by_version: dict[int, list[str]] = {}
    for mv_id, request_id in wanted:
        by_version.setdefault(mv_id, []).append(request_id)
    with transaction.atomic():
        found: list[Decision] = []
        for mv_id, request_ids in by_version.items():
            for start in range(0, len(request_ids), 1000):
                found.extend(
                    for_update(Decision.objects)
                    .filter(model_version_id=mv_id, request_id__in=request_ids[start : start + 1000])
                    .only("id", "project_id", "model_version_id", "request_id", "outcome", "erased_at", "occurred_at")
                )
        latest: dict[int, int] = {}
        ids = [decision.pk for decision in found]
        for start in range(0, len(ids), 1000):
            latest.update(
                OutcomeVersion.objects.filter(decision_id__in=ids[start : start + 1000])
                .values("decision_id")
                .annotate(latest=Max("version"))
                .values_list("decision_id", "latest")
            )
        batch = uuid.uuid4()
        key_pk = actor.api_key.pk if actor.api_key is not None else None
        user_pk = actor.user.pk if actor.user is not None and actor.user.pk else None
        new_versions: list[OutcomeVersion] = []
        corrected = 0
        found = _one_per_request(found, wanted, errors)
        for decision in found:
            index, outcome, outcome_at, correction, reason, _ = wanted.pop(
                (decision.model_version_id, decision.request_id)
            )
            has_outcome = decision.pk in latest or decision.outcome is not None
            if decision.erased_at is not None:
                errors.add(index, "outcome", "the decision was erased: no outcome is recorded for it")
            elif has_outcome and not correction:
                errors.add(
                    index, "outcome", 'the decision already has an outcome: send "correction": true with a reason'
                )
            elif correction and not has_outcome:
                errors.add(index, "correction", "the decision has no outcome to correct")
            if errors.count:
                continue
            decision.outcome, decision.outcome_at = normalise(outcome), outcome_at.astimezone(UTC)
            corrected += correction
            new_versions.append(
                OutcomeVersion(
                    decision_id=decision.pk,
                    project_id=decision.project_id,
                    decision_occurred_at=decision.occurred_at,
                    version=latest.get(decision.pk, 0) + 1,
                    outcome=decision.outcome,
                    outcome_at=decision.outcome_at,
                    reason=reason,
                    batch_id=batch,
                    created_at=now,
                    created_by_key_id=key_pk,
                    created_by_user_id=user_pk,
                )
            )
        errors.raise_if_any()
        OutcomeVersion.objects.bulk_create(new_versions, batch_size=1000)
        Decision.objects.bulk_update(found, ["outcome", "outcome_at"], batch_size=1000)
        if found:
            counts: dict[str, int] = {}
            hashes: dict[str, list[str]] = {}
            for decision, version in zip(found, new_versions, strict=True):
                mv = str(decision.model_version_id)
                counts[mv] = counts.get(mv, 0) + 1
                hashes.setdefault(mv, []).append(
                    outcome_row_hash(
                        decision_id=decision.pk,
                        version=version.version,
                        outcome=version.outcome,
                        outcome_at=version.outcome_at,
                    )
                )
            audit_append(
                actor=actor,
                event_type=Event.OUTCOMES_RECORDED,
                target_type=OUTCOME_BATCH_TARGET,
                target_id=batch,
                target_repr=f"outcome batch {batch}",
                project_id=versions[found[0].model_version_id].project_id,
                after={
                    "updated": len(found),
                    "corrected": corrected,
                    "unknown": len(wanted),
                    "model_versions": counts,
                    "versions": {
                        mv: {"recorded": len(rows), "versions_sha256": batch_hash(rows)}
                        for mv, rows in sorted(hashes.items())
                    },
                },
            )
    unknown = [
        {"index": index, "model_version": mv_id, "request_id": request_id}
        for (mv_id, request_id), (index, *_) in sorted(wanted.items(), key=lambda kv: kv[1][0])
    ]
    return OutcomeResult(updated=len(found), unknown=unknown, corrected=corrected)
