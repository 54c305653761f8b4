"""The technical documentation of a model version (AI Act Art. 11 and Annex IV), built from the records.

Sections in Annex IV's order, as far as the records reach: (1) general description, (2) development (data, the
training run), (3) validation (metrics, fairness audits with their intervals and the policy's thresholds), (4)
monitoring plan and results (the policy, drift and performance reports, incidents), (5) human oversight (the review
policy, the override rate) and (6) the change log (stage transitions, approvals, alias moves). Each statement has a
stable `key` (what a later pack compares), its `text`, and `cites`: the records it was written from, each with the
audit-chain events (seq, hash) that recorded it, so that a reader can check every line against the trail.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from governance.evidence.bom import latest_audits, upstream_data
from governance.evidence.citations import audit_citations, target_key
from governance.models import DriftReport, Incident, ModelVersionApproval, PerformanceReport, Policy
from governance.queries.reviews import override_rates
from registry.models import AuditEvent, Deployment, ModelAliasMove, ModelVersion, StageTransition

SECTIONS = (
    ("description", "1. General description of the AI system (Annex IV(1))"),
    ("development", "2. Elements of the system and its development: data and training (Annex IV(2))"),
    ("validation", "3. Validation and testing: metrics and fairness (Annex IV(2)(g), (4))"),
    ("monitoring", "4. Monitoring plan and results (Annex IV(3), (9); Art. 72)"),
    ("oversight", "5. Human oversight (Annex IV(2)(e); Art. 14)"),
    ("changes", "6. Changes over the lifecycle (Annex IV(6))"),
)


def _number(value: object) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


class _Writer:
    """Collects statements per section, each citing records with their audit events."""

    def __init__(self, citations: dict, extra: dict[tuple[str, str], list] | None = None):
        self.citations = citations
        self.extra = extra or {}
        self.sections: dict[str, list[dict]] = defaultdict(list)

    def cite(self, record, *, events: list | None = None) -> dict:
        key = target_key(record)
        found = events if events is not None else self.citations.get(key, [])
        return {
            "record": f"{key[0]}:{key[1]}",
            "audit": [{"seq": c["seq"], "hash": c["hash"], "event_type": c["event_type"]} for c in found],
        }

    def say(self, section: str, key: str, text: str, *cites: dict) -> None:
        self.sections[section].append({"key": key, "text": text, "cites": list(cites)})


def _version_events(version: ModelVersion) -> list[dict]:
    """The version's own audit events with their `after`, to cite transitions and approvals by what they name."""
    return list(
        AuditEvent.objects.filter(target_type="registry.modelversion", target_id=str(version.pk))
        .order_by("seq")
        .values("seq", "hash", "event_type", "after")
    )


def _policy(project_id: int) -> dict:
    """The project's policy as it stands (its defaults while none was saved), citing its last audit events."""
    policy = Policy.objects.filter(project_id=project_id).first()
    if policy is None:
        return {"values": Policy(project_id=project_id).snapshot(), "cite": None}
    events = audit_citations([policy]).get(target_key(policy), [])[-3:]
    key = target_key(policy)
    return {
        "values": policy.snapshot(),
        "cite": {
            "record": f"{key[0]}:{key[1]}",
            "audit": [{"seq": c["seq"], "hash": c["hash"], "event_type": c["event_type"]} for c in events],
        },
    }


def pack_build(*, model_version: ModelVersion, now: datetime) -> dict:
    version = ModelVersion.objects.select_related("model__project", "run").get(pk=model_version.pk)
    model, run = version.model, version.run
    data_versions, roles, parents = upstream_data(version)
    audits = latest_audits(version)
    deployments = list(Deployment.objects.filter(model_version=version).order_by("started_at", "id"))
    drift = list(DriftReport.objects.filter(model_version=version).order_by("-created_at", "-id")[:12])
    performance = list(PerformanceReport.objects.filter(model_version=version).order_by("-created_at", "-id")[:12])
    incidents = list(Incident.objects.filter(model_versions=version).order_by("aware_at", "id"))
    transitions = list(StageTransition.objects.filter(model_version=version).order_by("created_at", "id"))
    approvals = list(ModelVersionApproval.objects.filter(model_version=version).order_by("created_at", "id"))
    moves = list(ModelAliasMove.objects.filter(to_version=version).order_by("created_at", "id"))
    citations = audit_citations(
        [version, model, run, *data_versions, *audits, *deployments, *drift, *performance, *incidents]
    )
    own = _version_events(version)
    w = _Writer(citations)
    model_events = citations.get(target_key(model), [])

    # 1. description
    w.say(
        "description",
        "identity",
        f"{model.name} version {version.version} of project {model.project.name}; risk tier {model.risk_tier}; "
        f"stage {version.stage}; framework {version.framework or 'not recorded'}; artifact sha256 "
        f"{version.artifact_sha256}.",
        w.cite(version),
        w.cite(model),
    )
    card = [e for e in own if e["event_type"] in ("model_version.registered", "model_version.card_updated")]
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
    for deployment in deployments:
        until = f" until {deployment.ended_at:%Y-%m-%d}" if deployment.ended_at else ", live"
        w.say(
            "description",
            f"deployment:{deployment.pk}",
            f"Deployed to {deployment.environment} ({deployment.strategy}, {_number(deployment.traffic_percent)}% of "
            f"traffic) from {deployment.started_at:%Y-%m-%d}{until}.",
            w.cite(deployment),
        )

    # 2. development
    for dv in data_versions:
        used = ", ".join(sorted(roles.get(dv.pk, []))) or "upstream of the training data"
        derived = ", ".join(f"data version {pk}" for pk in sorted(parents.get(dv.pk, [])))
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

    # 3. validation
    for name, value in sorted(version.metrics.items()):
        value = value[-1] if isinstance(value, list) and value else value
        if isinstance(value, (int, float)):
            w.say(
                "validation",
                f"metric:{name}",
                f"Validation metric {name} = {_number(value)}.",
                w.cite(version, events=own[:1]),
            )
    for audit in audits:
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
    if not audits:
        w.say("validation", "fairness_audit:none", "No fairness audit of this version.")

    # 4. monitoring
    policy = _policy(version.project_id)
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
        *([policy["cite"]] if policy["cite"] else []),
    )
    for report in drift:
        w.say(
            "monitoring",
            f"drift_report:{report.pk}",
            f"Drift report {report.pk}, {report.window_start:%Y-%m-%d} to {report.window_end:%Y-%m-%d}, "
            f"{report.row_count} decisions: "
            + (f"drifted ({', '.join(report.drifted_features)})" if report.drifted else "no drift")
            + ".",
            w.cite(report),
        )
    for report in performance:
        w.say(
            "monitoring",
            f"performance_report:{report.pk}",
            f"Performance report {report.pk}, {report.window_start:%Y-%m-%d} to {report.window_end:%Y-%m-%d} "
            f"against {report.baseline_metric} {_number(report.baseline_value)}: "
            + ("degraded" if report.degraded else "within the policy")
            + ".",
            w.cite(report),
        )
    for incident in incidents:
        w.say(
            "monitoring",
            f"incident:{incident.pk}",
            f"Incident {incident.pk} ({incident.get_category_display()}): {incident.title}; aware "
            f"{incident.aware_at:%Y-%m-%d}, report due {incident.due_at:%Y-%m-%d}; {incident.get_status_display()}"
            + (f"; root cause: {incident.root_cause}" if incident.root_cause else "")
            + ".",
            w.cite(incident),
        )
    if not drift and not performance and not incidents:
        w.say("monitoring", "results:none", "No drift report, performance report or incident for this version yet.")

    # 5. human oversight
    reviews = policy["values"]
    w.say(
        "oversight",
        "review_policy",
        "Review policy: "
        + (f"risk tiers {', '.join(reviews['review_risk_tiers']) or 'all'}; " if "review_risk_tiers" in reviews else "")
        + f"labels {reviews.get('review_labels') or 'none'}; sampled share {reviews.get('review_sample_rate', 0)}; "
        f"four eyes {'on' if reviews.get('review_four_eyes') else 'off'}.",
        *([policy["cite"]] if policy["cite"] else []),
    )
    window = int(reviews.get("review_rate_window_days") or 30)
    from datetime import timedelta

    for rate in override_rates(model_version_ids=[version.pk], since=now - timedelta(days=window)):
        w.say(
            "oversight",
            "override_rate",
            f"Over the last {window} days {rate.reviewed} decisions were reviewed, {rate.overridden} overridden"
            + (f" (override rate {rate.rate:.1%})." if rate.rate is not None else "."),
        )

    # 6. change log
    for transition in transitions:
        events = [e for e in own if (e["after"] or {}).get("transition") == transition.pk]
        w.say(
            "changes",
            f"transition:{transition.pk}",
            f"{transition.created_at:%Y-%m-%d %H:%M} UTC: {transition.from_stage} → {transition.to_stage} "
            f"({transition.reason}); {len(transition.checks or [])} gate checks recorded.",
            w.cite(version, events=events),
        )
    for approval in approvals:
        events = [e for e in own if (e["after"] or {}).get("approval") == approval.pk]
        w.say(
            "changes",
            f"approval:{approval.pk}",
            f"{approval.created_at:%Y-%m-%d %H:%M} UTC: approved for {approval.to_stage} by {approval.created_by}: "
            f"{approval.comment}",
            w.cite(version, events=events),
        )
    for move in moves:
        events = [e for e in model_events if e["event_type"] == "model_alias.moved"]
        w.say(
            "changes",
            f"alias_move:{move.pk}",
            f"{move.created_at:%Y-%m-%d %H:%M} UTC: alias {move.name} moved onto this version"
            + (" (protected: a promotion)" if move.protected else "")
            + ".",
            w.cite(model, events=events),
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
