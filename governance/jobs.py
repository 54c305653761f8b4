"""Governance's background jobs (registry/jobs.py): each reads the input its request validated and calls the
service, which writes in the job's one transaction. Registered in GovernanceConfig.ready()."""

from __future__ import annotations

from governance.models import ErasureRequest
from governance.permissions import ERASURE_OFFICERS
from governance.services import erasure
from registry.jobs import JobContext, register_job_kind


def run_erasure_execution(context: JobContext) -> ErasureRequest:
    request = ErasureRequest.objects.get(pk=context.input["erasure_request"])
    return erasure.erasure_request_execute(actor=context.actor, request=request, progress=context.progress)


def register_jobs() -> None:
    register_job_kind(
        erasure.ERASURE_EXECUTION,
        title="erasure execution",
        handler=run_erasure_execution,
        roles=ERASURE_OFFICERS,
        result_route="erasure-request-detail",
    )
