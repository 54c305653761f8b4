"""Budgets: spend per period (UTC days or months) for a project, a tag or a model, and the alerts
raised once per period when a threshold share of the limit is crossed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import Count, Q, Sum

from governance.services.alerts import alert_raise
from llmops.events import LLMEvent
from llmops.models import Budget, BudgetAlert, LLMCall
from registry import bulk
from registry.actors import Actor
from registry.audit import audit_append
from registry.errors import field_error
from registry.models import Project
from registry.services.common import created_by, unique_or_conflict

ALERT_TYPE = "llm.budget_crossed"


def period_bounds(period: str, at: datetime) -> tuple[date, datetime, datetime]:
    """(period start date, start, end) of the UTC day or month holding `at`."""
    day = at.astimezone(UTC).date()
    if period == Budget.Period.DAILY:
        start = day
        end = day + timedelta(days=1)
    else:
        start = day.replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1)
    return start, datetime.combine(start, time(), UTC), datetime.combine(end, time(), UTC)


def _scope(budget: Budget) -> Q:
    """The calls a budget covers (any period)."""
    scope = Q(project_id=budget.project_id)
    if budget.scope == Budget.Scope.MODEL:
        scope &= Q(model=budget.scope_value)
    elif budget.scope == Budget.Scope.TAG:
        if bulk.is_postgresql():
            scope &= Q(tags__contains=[budget.scope_value])
        else:  # SQLite has no JSON containment: match the quoted tag in the stored list
            scope &= Q(tags__icontains=f'"{budget.scope_value}"')
    return scope


@dataclass(frozen=True)
class BudgetState:
    budget: Budget
    period_start: date
    spent: Decimal
    share: Decimal
    state: str  # ok, warning (a threshold below 1 crossed), exceeded
    unpriced_calls: int


def budget_states(budgets: Iterable[Budget], at: datetime) -> dict[int, BudgetState]:
    """Each budget's state in the period holding `at`, from one query (a filtered sum per budget)."""
    budgets = list(budgets)
    if not budgets:
        return {}
    periods = {b.pk: period_bounds(b.period, at) for b in budgets}
    aggregates = {}
    for b in budgets:
        _, start, end = periods[b.pk]
        window = _scope(b) & Q(occurred_at__gte=start, occurred_at__lt=end)
        aggregates[f"spent_{b.pk}"] = Sum("cost", filter=window)
        aggregates[f"unpriced_{b.pk}"] = Count("id", filter=window & Q(cost_status=LLMCall.CostStatus.UNPRICED))
    earliest = min(start for _, start, _ in periods.values())
    latest = max(end for _, _, end in periods.values())
    row = LLMCall.objects.filter(
        project_id__in={b.project_id for b in budgets}, occurred_at__gte=earliest, occurred_at__lt=latest
    ).aggregate(**aggregates)
    states = {}
    for b in budgets:
        spent = row[f"spent_{b.pk}"] or Decimal(0)
        share = (spent / b.limit) if b.limit else Decimal(0)
        crossed = [t for t in b.thresholds if share >= Decimal(str(t))]
        state = "exceeded" if share >= 1 else ("warning" if crossed else "ok")
        states[b.pk] = BudgetState(
            b, periods[b.pk][0], spent, share.quantize(Decimal("0.0001")), state, row[f"unpriced_{b.pk}"]
        )
    return states


def budget_state(budget: Budget, at: datetime) -> BudgetState:
    return budget_states([budget], at)[budget.pk]


def _thresholds(value: object) -> list[float]:
    if not isinstance(value, list) or not value:
        raise field_error("thresholds", "must be a non-empty list of shares of the limit, e.g. [0.5, 0.8, 1]")
    for t in value:
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not 0 < t <= 10:
            raise field_error("thresholds", "each threshold is a share of the limit between 0 (excluded) and 10")
    return sorted(set(float(t) for t in value))


def budget_create(
    *,
    actor: Actor,
    project: Project,
    name: str,
    limit: object,
    period: str = Budget.Period.MONTHLY,
    scope: str = Budget.Scope.PROJECT,
    scope_value: str = "",
    thresholds: object = (0.5, 0.8, 1.0),
) -> Budget:
    if scope not in Budget.Scope.values:
        raise field_error("scope", f"must be one of {', '.join(Budget.Scope.values)}")
    if period not in Budget.Period.values:
        raise field_error("period", f"must be one of {', '.join(Budget.Period.values)}")
    if scope == Budget.Scope.PROJECT and scope_value:
        raise field_error("scope_value", "a project budget has no scope value")
    if scope != Budget.Scope.PROJECT and not scope_value:
        raise field_error("scope_value", f"name the {scope} this budget covers")
    try:
        amount = Decimal(str(limit))
    except InvalidOperation:
        raise field_error("limit", "must be a decimal amount in USD") from None
    if not amount.is_finite() or amount <= 0:
        raise field_error("limit", "must be a positive amount in USD")
    thresholds = _thresholds(list(thresholds))
    with unique_or_conflict(f"budget {name!r} already exists in {project.slug}", "name"):
        budget = Budget.objects.create(
            project=project,
            name=name,
            scope=scope,
            scope_value=scope_value,
            period=period,
            limit=amount,
            thresholds=thresholds,
            **created_by(actor),
        )
        audit_append(
            actor=actor,
            event_type=LLMEvent.BUDGET_SET,
            target=budget,
            after={"name": name, "scope": scope, "scope_value": scope_value, "period": period, "limit": amount},
        )
    return budget


def budgets_check(*, actor: Actor, project: Project, at: Iterable[datetime]) -> list[BudgetAlert]:
    """After calls were recorded: raise each newly crossed threshold of the periods they fall in,
    once per budget, period and threshold (audit event and webhooks), in the caller's transaction.

    On the ingest path: per UTC day of the batch's calls one query for every budget's spend and one for the
    alerts already raised, whatever the number of budgets."""
    budgets = list(Budget.objects.filter(project=project))
    if not budgets:
        return []
    raised: list[BudgetAlert] = []
    seen: set[tuple[int, date]] = set()
    for day in sorted({moment.astimezone(UTC).date() for moment in at}):
        states = budget_states(budgets, datetime.combine(day, time(12), UTC))
        fresh = {pk: state for pk, state in states.items() if (pk, state.period_start) not in seen}
        seen.update((pk, state.period_start) for pk, state in fresh.items())
        existing = set(
            BudgetAlert.objects.filter(
                budget_id__in=fresh, period_start__in={state.period_start for state in fresh.values()}
            ).values_list("budget_id", "period_start", "threshold")
        )
        for budget in budgets:
            state = fresh.get(budget.pk)
            if state is None:
                continue
            for threshold in budget.thresholds:
                share = Decimal(str(threshold))
                if state.spent < budget.limit * share or (budget.pk, state.period_start, share) in existing:
                    continue
                try:
                    with transaction.atomic():
                        alert = BudgetAlert.objects.create(
                            budget=budget, period_start=state.period_start, threshold=share, spent=state.spent
                        )
                except IntegrityError:
                    continue  # raised meanwhile by a concurrent ingest
                alert_raise(
                    actor=actor,
                    project_id=project.pk,
                    alert_type=ALERT_TYPE,
                    target=budget,
                    payload={
                        "budget": budget.name,
                        "scope": budget.scope,
                        "scope_value": budget.scope_value,
                        "period": budget.period,
                        "period_start": state.period_start.isoformat(),
                        "threshold": float(share),
                        "limit": str(budget.limit),
                        "spent": str(state.spent),
                    },
                )
                raised.append(alert)
    return raised
