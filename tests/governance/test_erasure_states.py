"""The erasure request's state machine is one table (governance/erasure_states.py): the services refuse every
operation it does not allow in a status and set the status it names, and the admin offers exactly its
operations' buttons."""

from __future__ import annotations

import pytest
from django.urls import reverse

from governance.erasure_states import (
    CLOCK_STATUSES,
    CLOSED_STATUSES,
    ERASURE_OPERATIONS,
    ErasureOperation,
    erasure_allows,
    erasure_next_status,
    statuses_allowing,
)
from governance.models import ErasureRequest
from governance.services import erasure
from registry.actors import Actor
from registry.errors import Conflict

Status = ErasureRequest.Status
OFFICER_OPERATIONS = (
    ErasureOperation.TRACE,
    ErasureOperation.EXECUTE,
    ErasureOperation.REJECT,
    ErasureOperation.EXTEND,
)


def test_the_table_holds_every_status_and_leads_only_to_statuses():
    assert list(ERASURE_OPERATIONS) == list(Status.values)
    for allowed in ERASURE_OPERATIONS.values():
        assert set(allowed) <= set(ErasureOperation)
        assert set(allowed.values()) <= set(Status.values)


def test_the_table_is_the_erasure_lifecycle():
    assert ERASURE_OPERATIONS == {
        "received": {"trace": "traced", "reject": "rejected", "extend": "received"},
        "traced": {"trace": "traced", "execute": "executed", "reject": "rejected", "extend": "traced"},
        "executed": {"complete": "completed"},
        "completed": {},
        "rejected": {},
    }
    assert CLOSED_STATUSES == ("completed", "rejected")
    assert statuses_allowing(ErasureOperation.TRACE) == ("received", "traced")
    assert statuses_allowing(ErasureOperation.EXECUTE) == ("traced",)
    assert statuses_allowing(ErasureOperation.REJECT) == ("received", "traced")
    assert statuses_allowing(ErasureOperation.COMPLETE) == ("executed",)
    assert statuses_allowing(ErasureOperation.EXTEND) == ("received", "traced")
    assert CLOCK_STATUSES == ("received", "traced")  # the legal clock stops at execution or rejection
    assert erasure_allows("traced", ErasureOperation.EXECUTE) and not erasure_allows("received", "execute")
    assert not erasure_allows("unknown", ErasureOperation.TRACE)
    assert erasure_next_status("received", ErasureOperation.REJECT) == "rejected"
    with pytest.raises(KeyError):
        erasure_next_status("completed", ErasureOperation.TRACE)


def _request_in(project, status: str) -> ErasureRequest:
    request = erasure.erasure_request_create(
        actor=Actor.system(), project=project, subject_id="nobody", reference=f"ticket-{status}"
    )
    ErasureRequest.objects.filter(pk=request.pk).update(status=status)
    request.refresh_from_db()
    return request


def _run(operation: ErasureOperation, request: ErasureRequest) -> ErasureRequest:
    actor = Actor.system()
    if operation == ErasureOperation.TRACE:
        return erasure.erasure_request_trace(actor=actor, request=request)
    if operation == ErasureOperation.EXECUTE:
        return erasure.erasure_request_execute(actor=actor, request=request)
    if operation == ErasureOperation.EXTEND:
        return erasure.erasure_request_extend(actor=actor, request=request, months=1, reason="archives")
    return erasure.erasure_request_reject(actor=actor, request=request, reason="legal hold")


@pytest.mark.django_db
@pytest.mark.parametrize("status", Status.values)
@pytest.mark.parametrize("operation", OFFICER_OPERATIONS)
def test_the_services_follow_the_table(project, status, operation):
    request = _request_in(project, status)
    if erasure_allows(status, operation):
        done = _run(operation, request)
        expected = erasure_next_status(status, operation)
        if operation == ErasureOperation.EXECUTE and erasure_allows(expected, ErasureOperation.COMPLETE):
            # nothing trained on the subject: no obligation to wait for, so the request completes at once
            expected = erasure_next_status(expected, ErasureOperation.COMPLETE)
        assert done.status == expected
        assert ErasureRequest.objects.get(pk=request.pk).status == expected
    else:
        with pytest.raises(Conflict) as refused:
            _run(operation, request)
        assert refused.value.code == "invalid_state"
        assert ErasureRequest.objects.get(pk=request.pk).status == status


@pytest.mark.django_db
@pytest.mark.parametrize("status", Status.values)
def test_the_admin_offers_the_operations_the_table_allows(admin_client, project, status):
    request = _request_in(project, status)
    response = admin_client.get(reverse("admin:governance_erasurerequest_change", args=[request.pk]))
    assert response.status_code == 200
    offered = [op.name for op in response.context["operations"]]
    assert offered == [op.value for op in OFFICER_OPERATIONS if erasure_allows(status, op)]
