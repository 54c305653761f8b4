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
