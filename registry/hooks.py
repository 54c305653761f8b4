"""Extension points through which upper apps react to registry events without the registry importing them.

Hooks run inside the transaction of the event, with the same actor. Apps register in AppConfig.ready().
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from registry.actors import Actor
    from registry.models import ModelVersion

ModelVersionHook = Callable[["Actor", "ModelVersion"], None]

_model_version_registered: list[ModelVersionHook] = []


def on_model_version_registered(hook: ModelVersionHook) -> ModelVersionHook:
    if hook not in _model_version_registered:
        _model_version_registered.append(hook)
    return hook


def model_version_registered(actor: Actor, model_version: ModelVersion) -> None:
    for hook in _model_version_registered:
        hook(actor, model_version)


# Promotion gate: checks that upper apps contribute to a stage transition. Each answers a list of
# {"check", "passed", "message"}; a transition with a failed check is refused.
GateCheck = Callable[["Actor", "ModelVersion", str], list[dict]]

_gate_checks: list[GateCheck] = []


def add_gate_check(check: GateCheck) -> GateCheck:
    if check not in _gate_checks:
        _gate_checks.append(check)
    return check


def gate_checks(actor: Actor, model_version: ModelVersion, to_stage: str) -> list[dict]:
    return [result for check in _gate_checks for result in check(actor, model_version, to_stage)]


# Change guards: upper apps refuse changes to a model version's registry record (its card) while they hold it
# frozen (governance: an open incident names it, AI Act Art. 73). Each answers the reasons it refuses, or [].
ChangeGuard = Callable[["Actor", "ModelVersion"], list[str]]

_change_guards: list[ChangeGuard] = []


def add_change_guard(guard: ChangeGuard) -> ChangeGuard:
    if guard not in _change_guards:
        _change_guards.append(guard)
    return guard


def change_refusals(actor: Actor, model_version: ModelVersion) -> list[str]:
    return [reason for guard in _change_guards for reason in guard(actor, model_version)]


# Record checks of the records verify (registry/records.py): each is given a `report(record, pk, reason)` and
# answers how many records of each kind it checked, e.g. {"llmops.promptversion": 12}.
RecordCheck = Callable[[Callable[[str, object, str], None]], dict[str, int]]

_record_checks: list[RecordCheck] = []


def add_record_check(check: RecordCheck) -> RecordCheck:
    if check not in _record_checks:
        _record_checks.append(check)
    return check


def record_checks() -> list[RecordCheck]:
    return list(_record_checks)


# Protected model aliases: the names whose move is a promotion through the gate, per project (the governance
# policy's `protected_aliases`). Without a provider, DEFAULT_PROTECTED_ALIASES are protected.
DEFAULT_PROTECTED_ALIASES = frozenset({"champion", "production"})
AliasProtection = Callable[["Actor", int], "set[str] | frozenset[str]"]

_alias_protection: list[AliasProtection] = []


def add_alias_protection(provider: AliasProtection) -> AliasProtection:
    if provider not in _alias_protection:
        _alias_protection.append(provider)
    return provider


def protected_aliases(actor: Actor, project_id: int) -> frozenset[str]:
    if not _alias_protection:
        return DEFAULT_PROTECTED_ALIASES
    return frozenset().union(*(provider(actor, project_id) for provider in _alias_protection))
