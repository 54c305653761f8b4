"""The technical documentation of a model version, or of a model across its versions (AI Act Art. 11 and Annex
IV), built from the records.

Sections in Annex IV's order, as far as the records reach: (1) general description, (2) development (data, the
training run), (3) validation (metrics, fairness audits with their intervals and the policy's thresholds, and the
evaluations of the project's LLM components, contributed by llmops through governance.evidence.contributors), (4)
monitoring plan and results (the policy, drift and performance reports, incidents), (5) human oversight (the review
policy, the override rate with the reviews it counts) and (6) the change log (stage transitions, approvals, alias
moves). Each statement has a stable `key` (what a later pack compares), its `text`, and `cites`: the records it was
written from, each with the audit-chain events (seq, hash) that recorded it, so that a reader can check every line
against the trail.

`pack_build` writes one version; `model_pack_build` writes the model, then every version in order through the same
section builders (a version's statements carry `version` and keys prefixed `v<n>:`), and a change log across the
versions, oldest first: each version's transitions and approvals, every alias move (from which version to which),
and which version replaced which in production and in each environment.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from governance.evidence.bom import latest_audits, upstream_data
from governance.evidence.citations import audit_citations, target_key
from governance.evidence.contributors import contributed_statements
from governance.models import (
    DriftReport,
    Incident,
    ModelVersionApproval,
    PerformanceReport,
    Policy,
    Review,
)
from governance.queries.reviews import override_rates
from registry.models import (
    REPLACING_STRATEGIES,
    AuditEvent,
    DataVersion,
    Deployment,
    Model,
    ModelAliasMove,
    ModelVersion,
    Run,
    Stage,
    StageTransition,
)

SECTIONS = (
    ("description", "1. General description of the AI system (Annex IV(1))"),
    ("development", "2. Elements of the system and its development: data and training (Annex IV(2))"),
    ("validation", "3. Validation and testing: metrics, fairness and LLM evaluations (Annex IV(2)(g), (4))"),
    ("monitoring", "4. Monitoring plan and results (Annex IV(3), (9); Art. 72)"),
    ("oversight", "5. Human oversight (Annex IV(2)(e); Art. 14)"),
    ("changes", "6. Changes over the lifecycle (Annex IV(6))"),
)
REPORTS = 12  # the latest drift and performance reports a version's pack states
MODEL_PACK_REPORTS = 3  # the same, per version, in a model's pack (the version's own pack has the rest)
CITED_REVIEWS = 100  # the reviews an override rate cites, newest first


def _number(value: object) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _at(moment: datetime) -> str:
    return moment.isoformat()


def _cite_events(record, events: list) -> dict:
    key = target_key(record)
    return {
        "record": f"{key[0]}:{key[1]}",
        "audit": [{"seq": c["seq"], "hash": c["hash"], "event_type": c["event_type"]} for c in events],
    }


class _Writer:
    """Collects statements per section, each citing records with their audit events. `scoped(version)` writes into
    the same sections for one version of a model's pack: keys prefixed `v<n>:`, statements carrying `version`."""

    def __init__(self, citations: dict, sections: dict | None = None, version: int | None = None):
        self.citations = citations
        self.sections: dict[str, list[dict]] = sections if sections is not None else defaultdict(list)
        self.version = version

    def scoped(self, version: int) -> _Writer:
        return _Writer(self.citations, self.sections, version)

    def cite(self, record, *, events: list | None = None) -> dict:
        return _cite_events(record, events if events is not None else self.citations.get(target_key(record), []))

    def say(self, section: str, key: str, text: str, *cites: dict, at: datetime | None = None) -> None:
        statement: dict = {"key": key if self.version is None else f"v{self.version}:{key}", "text": text}
        if self.version is not None:
            statement["version"] = self.version
        if at is not None:
            statement["at"] = _at(at)
        statement["cites"] = list(cites)
        self.sections[section].append(statement)


@dataclass
class _Records:
    """What one version's statements are written from."""

    version: ModelVersion
    run: Run
    data_versions: list[DataVersion]
    roles: dict[int, list[str]]
    parents: dict[int, set[int]]
    audits: list
    deployments: list[Deployment]
    drift: list[DriftReport]
    performance: list[PerformanceReport]
    incidents: list[Incident]
    transitions: list[StageTransition]
    approvals: list[ModelVersionApproval]
    moves: list[ModelAliasMove]
    reports: int = REPORTS  # how many of the latest drift and performance reports were read
    reports_left_out: dict[str, int] = field(default_factory=dict)
    own: list[dict] = field(default_factory=list)  # the version's audit events with their `after`

    def cited(self) -> list:
        return [
            self.version,
            self.run,
            *self.data_versions,
            *self.audits,
            *self.deployments,
            *self.drift,
            *self.performance,
            *self.incidents,
        ]


def _latest(queryset, limit: int) -> tuple[list, int]:
    """The newest `limit` rows, and how many older ones were left out (counted only when the limit is reached)."""
    rows = list(queryset.order_by("-created_at", "-id")[:limit])
    return rows, (queryset.count() - limit if len(rows) == limit else 0)


def _records(version: ModelVersion, *, reports: int) -> _Records:
    data_versions, roles, parents = upstream_data(version)
    drift, drift_left = _latest(DriftReport.objects.filter(model_version=version), reports)
    performance, performance_left = _latest(PerformanceReport.objects.filter(model_version=version), reports)
    return _Records(
        version=version,
        run=version.run,
        data_versions=data_versions,
        roles=roles,
        parents=parents,
        audits=latest_audits(version),
        deployments=list(Deployment.objects.filter(model_version=version).order_by("started_at", "id")),
        drift=drift,
        performance=performance,
        incidents=list(Incident.objects.filter(model_versions=version).order_by("aware_at", "id")),
        transitions=list(StageTransition.objects.filter(model_version=version).order_by("created_at", "id")),
        approvals=list(ModelVersionApproval.objects.filter(model_version=version).order_by("created_at", "id")),
        moves=list(ModelAliasMove.objects.filter(to_version=version).order_by("created_at", "id")),
        reports=reports,
        reports_left_out={"drift": drift_left, "performance": performance_left},
    )


def _own_events(target_type: str, ids: list[int]) -> dict[int, list[dict]]:
    """The audit events of these records with their `after` (one query), to cite transitions, approvals and alias
    moves by what each event names."""
    found: dict[int, list[dict]] = defaultdict(list)
    for row in (
        AuditEvent.objects.filter(target_type=target_type, target_id__in=[str(pk) for pk in ids])
        .order_by("seq")
        .values("target_id", "seq", "hash", "event_type", "after")
    ):
        found[int(row["target_id"])].append(row)
    return found


def _policy(project_id: int) -> dict:
    """The project's policy as it stands (its defaults while none was saved), citing its last audit events."""
    policy = Policy.objects.filter(project_id=project_id).first()
    if policy is None:
        return {"values": Policy(project_id=project_id).snapshot(), "cite": None}
    events = audit_citations([policy]).get(target_key(policy), [])[-3:]
    return {"values": policy.snapshot(), "cite": _cite_events(policy, events)}


def _oversight_window(policy: dict) -> int:
    return int(policy["values"].get("review_rate_window_days") or 30)


def _counted_reviews(version_ids: list[int], since: datetime) -> dict[int, tuple[list[Review], int]]:
    """Per version, the reviews of the decisions its override rate counts (those whose review closed since `since`):
    every verdict on them (an override and the second person's agreement, a confirmation), newest first, at most
    CITED_REVIEWS, with how many there are: the records the rate rests on (one query)."""
    by_version: dict[int, list[Review]] = defaultdict(list)
    totals: dict[int, int] = defaultdict(int)
    rows = (
        Review.objects.filter(model_version_id__in=version_ids, item__closed_at__gte=since)
        .only("id", "model_version_id")
        .order_by("-id")
    )
    for review in rows:
        totals[review.model_version_id] += 1
        if len(by_version[review.model_version_id]) < CITED_REVIEWS:
            by_version[review.model_version_id].append(review)
    return {pk: (cited, totals[pk]) for pk, cited in by_version.items()}


# The section builders, shared by a version's pack and a model's.


def _describe(w: _Writer, r: _Records) -> None:
    version = r.version
    model = version.model
    card = [e for e in r.own if e["event_type"] in ("model_version.registered", "model_version.card_updated")]
    w.say(
        "description",
        "identity",
        f"{model.name} version {version.version} of project {model.project.name}; risk tier {model.risk_tier}; "
        f"stage {version.stage}; framework {version.framework or 'not recorded'}; artifact sha256 "
        f"{version.artifact_sha256}.",
        w.cite(version),
        w.cite(model),
    )
    w.say(
        "description",
        "intended_use",
        f"Intended use: {version.intended_use.strip().rstrip('.') or 'not recorded'}.",
        w.cite(version, events=card),
    )
    w.say(
        "description",
        "limitations",
        f"Limitations: {version.limitations.strip().rstrip('.') or 'not recorded'}.",
        w.cite(version, events=card),
    )
    for deployment in r.deployments:
        until = f" until {deployment.ended_at:%Y-%m-%d}" if deployment.ended_at else ", live"
        w.say(
            "description",
            f"deployment:{deployment.pk}",
            f"Deployed to {deployment.environment} ({deployment.strategy}, {_number(deployment.traffic_percent)}% of "
            f"traffic) from {deployment.started_at:%Y-%m-%d}{until}.",
            w.cite(deployment),
        )


def _develop(w: _Writer, r: _Records) -> None:
    for dv in r.data_versions:
        used = ", ".join(sorted(r.roles.get(dv.pk, []))) or "upstream of the training data"
        derived = ", ".join(f"data version {pk}" for pk in sorted(r.parents.get(dv.pk, [])))
        w.say(
            "development",
            f"data_version:{dv.pk}",
            f"Data: {dv.dataset.name} {dv.version} ({used}), {dv.row_count if dv.row_count is not None else '?'} rows, "
            f"content sha256 {dv.content_sha256}; columns {', '.join(sorted(dv.schema))}; "
            f"{'a reference profile is recorded' if dv.profile else 'no reference profile'}; personal data: "
            f"{'yes' if dv.dataset.contains_personal_data else 'no'}"
            f"{f' (legal basis: {dv.dataset.legal_basis})' if dv.dataset.legal_basis else ''}"
            f"{f'; derived from {derived}' if derived else ''}.",
            w.cite(dv),
        )
    run = r.run
    w.say(
        "development",
        "training_run",
        f"Training run {run.name} ({run.source}): parameters "
        + (", ".join(f"{k}={v}" for k, v in sorted(run.params.items())) or "none recorded")
        + f"; code commit {run.git_commit or 'not recorded'}"
        + (f" on {run.git_branch}" if run.git_branch else "")
        + (
            "; environment " + ", ".join(f"{k} {v}" for k, v in sorted(run.environment.items()))
            if run.environment
            else ""
        )
        + ".",
        w.cite(run),
    )


def _validate(w: _Writer, r: _Records) -> None:
    version = r.version
    for name, value in sorted(version.metrics.items()):
        value = value[-1] if isinstance(value, list) and value else value
        if isinstance(value, (int, float)):
            w.say(
                "validation",
                f"metric:{name}",
                f"Validation metric {name} = {_number(value)}.",
                w.cite(version, events=r.own[:1]),
            )
    for audit in r.audits:
        thresholds = ", ".join(
            f"{k} {v}" for k, v in sorted((audit.policy or {}).items()) if isinstance(v, (int, float))
        )
        groups = "; ".join(
            f"{', '.join(f'{k}={v}' for k, v in sorted(g['group'].items()))}: selection rate "
            f"{_number(g.get('selection_rate'))}"
            + (
                f" [{_number(g['intervals']['selection_rate'][0])}, {_number(g['intervals']['selection_rate'][1])}]"
                if g.get("intervals", {}).get("selection_rate")
                else ""
            )
            for g in audit.by_group or []
            if isinstance(g.get("group"), dict)
        )
        w.say(
            "validation",
            f"fairness_audit:{'+'.join(audit.sensitive_features)}",
            f"Fairness audit {audit.pk} by {', '.join(audit.sensitive_features)} over {audit.row_count} decisions "
            f"with outcomes: {'passed' if audit.passed else 'failed'}"
            + "".join(
                f"; {k} {_number(v)}" for k, v in sorted((audit.disparities or {}).items()) if isinstance(v, float)
            )
            + (f"; groups: {groups}" if groups else "")
            + (f"; thresholds: {thresholds}" if thresholds else "")
            + ("; exploratory (not by the policy's attributes)" if audit.exploratory else "")
            + ".",
            w.cite(audit),
        )
    if not r.audits:
        w.say("validation", "fairness_audit:none", "No fairness audit of this version.")


def _contributed(w: _Writer, statements: list) -> None:
    """What other apps state (the LLM components' evaluations), cited like the rest."""
    for statement in statements:
        w.say(statement["section"], statement["key"], statement["text"], *(w.cite(rec) for rec in statement["records"]))


def _policies(w: _Writer, policy: dict) -> None:
    """The project's monitoring and review policy: the first statement of the monitoring and oversight sections."""
    cites = [policy["cite"]] if policy["cite"] else []
    w.say(
        "monitoring",
        "policy",
        "Monitoring policy: "
        + ", ".join(
            f"{k} {v}"
            for k, v in sorted(policy["values"].items())
            if isinstance(v, (int, float, bool)) and v is not None
        )
        + ".",
        *cites,
    )
    reviews = policy["values"]
    w.say(
        "oversight",
        "review_policy",
        "Review policy: "
        + (f"risk tiers {', '.join(reviews['review_risk_tiers']) or 'all'}; " if "review_risk_tiers" in reviews else "")
        + f"labels {reviews.get('review_labels') or 'none'}; sampled share {reviews.get('review_sample_rate', 0)}; "
        f"four eyes {'on' if reviews.get('review_four_eyes') else 'off'}.",
        *cites,
    )


def _monitor(w: _Writer, r: _Records) -> None:
    for report in r.drift:
        w.say(
            "monitoring",
            f"drift_report:{report.pk}",
            f"Drift report {report.pk}, {report.window_start:%Y-%m-%d} to {report.window_end:%Y-%m-%d}, "
            f"{report.row_count} decisions: "
            + (f"drifted ({', '.join(report.drifted_features)})" if report.drifted else "no drift")
            + ".",
            w.cite(report),
        )
    for report in r.performance:
        w.say(
            "monitoring",
            f"performance_report:{report.pk}",
            f"Performance report {report.pk}, {report.window_start:%Y-%m-%d} to {report.window_end:%Y-%m-%d} "
            f"against {report.baseline_metric} {_number(report.baseline_value)}: "
            + ("degraded" if report.degraded else "within the policy")
            + ".",
            w.cite(report),
        )
    left = {kind: n for kind, n in r.reports_left_out.items() if n}
    if left:
        w.say(
            "monitoring",
            "reports:older",
            "Older reports not listed here: "
            + ", ".join(f"{n} {kind} report{'s' if n != 1 else ''}" for kind, n in sorted(left.items()))
            + (f" (the version's own pack lists the latest {REPORTS} of each)." if r.reports < REPORTS else "."),
        )
    for incident in r.incidents:
        w.say(
            "monitoring",
            f"incident:{incident.pk}",
            f"Incident {incident.pk} ({incident.get_category_display()}): {incident.title}; aware "
            f"{incident.aware_at:%Y-%m-%d}, report due {incident.due_at:%Y-%m-%d}; {incident.get_status_display()}"
            + (f"; root cause: {incident.root_cause}" if incident.root_cause else "")
            + ".",
            w.cite(incident),
        )
    if not r.drift and not r.performance and not r.incidents:
        w.say("monitoring", "results:none", "No drift report, performance report or incident for this version yet.")


def _override_rate(w: _Writer, rate, window: int, counted: tuple[list[Review], int]) -> None:
    reviews, total = counted
    cited = f"; the latest {len(reviews)} of their {total} reviews cited" if total > len(reviews) else ""
    w.say(
        "oversight",
        "override_rate",
        f"Over the last {window} days {rate.reviewed} decisions were reviewed, {rate.overridden} overridden"
        + (f" (override rate {rate.rate:.1%})" if rate.rate is not None else "")
        + cited
        + ".",
        *(w.cite(review) for review in reviews),
    )


def _version_changes(w: _Writer, r: _Records) -> None:
    """The version's stage transitions and approvals, each citing the version's event that recorded it."""
    for transition in r.transitions:
        events = [e for e in r.own if (e["after"] or {}).get("transition") == transition.pk]
        w.say(
            "changes",
            f"transition:{transition.pk}",
            f"{transition.created_at:%Y-%m-%d %H:%M} UTC: {transition.from_stage} → {transition.to_stage} "
            f"({transition.reason}); {len(transition.checks or [])} gate checks recorded.",
            w.cite(r.version, events=events),
            at=transition.created_at,
        )
    for approval in r.approvals:
        events = [e for e in r.own if (e["after"] or {}).get("approval") == approval.pk]
        w.say(
            "changes",
            f"approval:{approval.pk}",
            f"{approval.created_at:%Y-%m-%d %H:%M} UTC: approved for {approval.to_stage} by {approval.created_by}: "
            f"{approval.comment}",
            w.cite(r.version, events=events),
            at=approval.created_at,
        )


def _move_events(model_events: list[dict], move: ModelAliasMove) -> list[dict]:
    """The model's alias events that recorded this move (same alias, onto the same version)."""
    return [
        e
        for e in model_events
        if e["event_type"] == "model_alias.moved"
        and (e["after"] or {}).get("alias") == move.name
        and (e["after"] or {}).get("model_version") == move.to_version_id
    ]


def _versions_in_order(model: Model) -> list[ModelVersion]:
    return list(
        ModelVersion.objects.filter(model=model).select_related("model__project", "run").order_by("version", "id")
    )


def pack_build(*, model_version: ModelVersion, now: datetime) -> dict:
    version = ModelVersion.objects.select_related("model__project", "run").get(pk=model_version.pk)
    model = version.model
    r = _records(version, reports=REPORTS)
    r.own = _own_events("registry.modelversion", [version.pk])[version.pk]
    policy = _policy(version.project_id)
    window = _oversight_window(policy)
    since = now - timedelta(days=window)
    rates = override_rates(model_version_ids=[version.pk], since=since)
    reviews = _counted_reviews([version.pk], since) if rates else {}
    contributed = contributed_statements(project_id=version.project_id, now=now)
    citations = audit_citations(
        [
            *r.cited(),
            model,
            *(review for cited, _ in reviews.values() for review in cited),
            *(record for statement in contributed for record in statement["records"]),
        ]
    )
    w = _Writer(citations)
    model_events = _own_events("registry.model", [model.pk])[model.pk] if r.moves else []

    _describe(w, r)
    _develop(w, r)
    _validate(w, r)
    _contributed(w, contributed)
    _policies(w, policy)
    _monitor(w, r)
    for rate in rates:
        _override_rate(w, rate, window, reviews.get(rate.model_version_id, ([], 0)))
    _version_changes(w, r)
    for move in r.moves:
        w.say(
            "changes",
            f"alias_move:{move.pk}",
            f"{move.created_at:%Y-%m-%d %H:%M} UTC: alias {move.name} moved onto this version"
            + (" (protected: a promotion)" if move.protected else "")
            + ".",
            w.cite(model, events=_move_events(model_events, move)),
            at=move.created_at,
        )

    return {
        "model_version": version.pk,
        "title": f"Technical documentation: {model.name} v{version.version}",
        "generated_at": now.isoformat(),
        "sections": [
            {"id": section_id, "title": title, "statements": w.sections.get(section_id, [])}
            for section_id, title in SECTIONS
        ],
    }


def _replacements(w: _Writer, records: list[_Records]) -> None:
    """Which version replaced which: in production (a promotion archives the version it replaces, with the reason
    "replaced in production by v<n>"), and in each environment (a direct or blue-green deployment takes over from
    the one live there before)."""
    by_pk = {r.version.pk: r for r in records}
    transitions = sorted(
        ((t, by_pk[t.model_version_id]) for r in records for t in r.transitions),
        key=lambda pair: (pair[0].created_at, pair[0].pk),
    )
    for transition, r in transitions:
        if transition.to_stage != Stage.PRODUCTION:
            continue
        reason = f"replaced in production by v{r.version.version}"
        for other, before in transitions:
            if before is r or other.from_stage != Stage.PRODUCTION or other.reason != reason:
                continue
            if abs((other.created_at - transition.created_at).total_seconds()) > 60:  # the same promotion
                continue
            w.say(
                "changes",
                f"replaced:production:{transition.pk}:{before.version.pk}",
                f"{transition.created_at:%Y-%m-%d %H:%M} UTC: v{r.version.version} replaced "
                f"v{before.version.version} in production.",
                w.cite(r.version, events=[e for e in r.own if (e["after"] or {}).get("transition") == transition.pk]),
                w.cite(
                    before.version, events=[e for e in before.own if (e["after"] or {}).get("transition") == other.pk]
                ),
                at=transition.created_at,
            )
    by_environment: dict[str, list[Deployment]] = defaultdict(list)
    for r in records:
        for deployment in r.deployments:
            if deployment.strategy in REPLACING_STRATEGIES:
                by_environment[deployment.environment].append(deployment)
    for environment, deployments in sorted(by_environment.items()):
        deployments.sort(key=lambda d: (d.started_at, d.pk))
        for before, after in zip(deployments, deployments[1:], strict=False):
            if before.model_version_id == after.model_version_id:
                continue
            w.say(
                "changes",
                f"replaced:deployment:{after.pk}",
                f"{after.started_at:%Y-%m-%d %H:%M} UTC: v{by_pk[after.model_version_id].version.version} replaced "
                f"v{by_pk[before.model_version_id].version.version} in {environment} ({after.strategy}).",
                w.cite(after),
                w.cite(before),
                at=after.started_at,
            )


def model_pack_build(*, model: Model, now: datetime) -> dict:
    """The documentation of `model` across its versions: the model and its versions in order, each version's
    description, development, validation, monitoring and oversight through the version pack's builders, and the
    change log across versions, oldest first."""
    model = Model.objects.select_related("project").get(pk=model.pk)
    versions = _versions_in_order(model)
    records = [_records(version, reports=MODEL_PACK_REPORTS) for version in versions]
    own = _own_events("registry.modelversion", [v.pk for v in versions])
    for r in records:
        r.own = own[r.version.pk]
    model_events = _own_events("registry.model", [model.pk])[model.pk]
    moves = list(
        ModelAliasMove.objects.filter(model=model)
        .select_related("from_version", "to_version")
        .order_by("created_at", "id")
    )
    policy = _policy(model.project_id)
    window = _oversight_window(policy)
    since = now - timedelta(days=window)
    ids = [v.pk for v in versions]
    rates = override_rates(model_version_ids=ids, since=since) if ids else []
    reviews = _counted_reviews(ids, since) if rates else {}
    contributed = contributed_statements(project_id=model.project_id, now=now)
    citations = audit_citations(
        [
            model,
            *(record for r in records for record in r.cited()),
            *(review for cited, _ in reviews.values() for review in cited),
            *(record for statement in contributed for record in statement["records"]),
        ]
    )
    w = _Writer(citations)
    model_cite = w.cite(model)

    listed = (
        "; ".join(f"v{v.version} ({v.stage}, registered {v.created_at:%Y-%m-%d})" for v in versions)
        or "none registered yet"
    )
    w.say(
        "description",
        "model",
        f"{model.name} of project {model.project.name}; risk tier {model.risk_tier}."
        + (f" {model.description.strip().rstrip('.')}." if model.description.strip() else "")
        + f" {len(versions)} version{'s' if len(versions) != 1 else ''}: {listed}.",
        model_cite,
        *(w.cite(v, events=own[v.pk][:1]) for v in versions),
    )
    _contributed(w, contributed)
    _policies(w, policy)
    rate_of = {rate.model_version_id: rate for rate in rates}
    for r in records:
        scoped = w.scoped(r.version.version)
        _describe(scoped, r)
        _develop(scoped, r)
        _validate(scoped, r)
        _monitor(scoped, r)
        if (rate := rate_of.get(r.version.pk)) is not None:
            _override_rate(scoped, rate, window, reviews.get(r.version.pk, ([], 0)))
        _version_changes(scoped, r)
    for move in moves:
        w.say(
            "changes",
            f"alias_move:{move.pk}",
            f"{move.created_at:%Y-%m-%d %H:%M} UTC: alias {move.name} moved "
            + (f"from v{move.from_version.version} " if move.from_version_id else "")
            + f"onto v{move.to_version.version}"
            + (" (protected: a promotion)" if move.protected else "")
            + ".",
            w.cite(model, events=_move_events(model_events, move)),
            at=move.created_at,
        )
    _replacements(w, records)
    w.sections["changes"].sort(key=lambda statement: statement.get("at") or "")

    return {
        "model": model.pk,
        "title": f"Technical documentation: {model.name}, all versions",
        "generated_at": now.isoformat(),
        "versions": [{"id": v.pk, "version": v.version, "stage": v.stage} for v in versions],
        "sections": [
            {"id": section_id, "title": title, "statements": w.sections.get(section_id, [])}
            for section_id, title in SECTIONS
        ],
    }


def pack_changes(previous: dict | None, current: dict) -> dict:
    """What changed since the previous pack, by statement key: added, removed, and changed (text differs)."""

    def index(pack):
        return {
            (section["id"], statement["key"]): statement["text"]
            for section in (pack or {}).get("sections", [])
            for statement in section["statements"]
        }

    before, after = index(previous), index(current)
    return {
        "added": [{"section": s, "key": k, "text": after[(s, k)]} for s, k in after if (s, k) not in before],
        "removed": [{"section": s, "key": k, "text": before[(s, k)]} for s, k in before if (s, k) not in after],
        "changed": [
            {"section": s, "key": k, "before": before[(s, k)], "after": after[(s, k)]}
            for s, k in after
            if (s, k) in before and before[(s, k)] != after[(s, k)]
        ],
    }
