"""Extending an erasure request's deadline (GDPR Art. 12(3)): by one or two further months in all, decided within
the first month and before the first deadline, before execution, with a reason; audited; refused otherwise with
nothing changed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from governance import deadlines
from governance.models import ErasureRequest
from governance.services import erasure
from registry.actors import Actor
from registry.errors import Conflict, ServiceError
from registry.models import AuditEvent

SYSTEM = Actor.system()
RECEIVED = datetime(2026, 1, 31, 10, 0, tzinfo=UTC)


@pytest.fixture
def request_(project):
    return erasure.erasure_request_create(
        actor=SYSTEM, project=project, subject_id="alice", reference="DSR-9", received_at=RECEIVED
    )


def _extend(req, months, reason="many archives", now=RECEIVED + timedelta(days=5)):
    return erasure.erasure_request_extend(actor=SYSTEM, request=req, months=months, reason=reason, now=now)


def test_an_extension_moves_the_deadline_to_the_end_of_the_month_period(request_):
    assert request_.due_at == RECEIVED + timedelta(days=30)  # 2 March 10:00, the 30 days
    one = _extend(request_, 1)
    assert one.due_at == deadlines.subject_request_due(RECEIVED, extension_months=1)
    assert one.due_at.date().isoformat() == "2026-03-31"  # 31 January + 2 months: the end of 31 March
    two = _extend(one, 2)
    assert two.due_at.date().isoformat() == "2026-04-30"  # no 31 April
    event = AuditEvent.objects.filter(event_type="erasure.extended").latest("seq")
    assert event.before["extension_months"] == 1
    assert event.after == {"due_at": two.due_at.isoformat(), "extension_months": 2, "reason": "many archives"}


@pytest.mark.parametrize(
    ("months", "reason", "field"),
    [(0, "x", "months"), (3, "x", "months"), (True, "x", "months"), (1, "   ", "reason"), (1, "r" * 2001, "reason")],
)
def test_bad_extensions_are_refused_naming_the_field(request_, months, reason, field):
    before = AuditEvent.objects.count()
    with pytest.raises(ServiceError) as raised:
        _extend(request_, months, reason)
    assert field in raised.value.fields
    assert AuditEvent.objects.count() == before
    request_.refresh_from_db()
    assert (request_.extension_months, request_.due_at) == (0, RECEIVED + timedelta(days=30))


def test_an_extension_only_lengthens_and_only_in_time(request_):
    _extend(request_, 2)
    with pytest.raises(ServiceError, match="already extended by 2"):
        _extend(request_, 1)
    fresh = erasure.erasure_request_create(
        actor=SYSTEM, project=request_.project, subject_id="bob", reference="DSR-10", received_at=RECEIVED
    )
    decided_by = deadlines.extension_decided_by(RECEIVED)
    assert decided_by == min(RECEIVED + timedelta(days=30), deadlines.months_period_end(RECEIVED, 1))
    _extend(fresh, 1, now=decided_by)  # the last moment
    late = erasure.erasure_request_create(
        actor=SYSTEM, project=request_.project, subject_id="carol", reference="DSR-11", received_at=RECEIVED
    )
    with pytest.raises(ServiceError, match="within the first month"):
        _extend(late, 1, now=decided_by + timedelta(microseconds=1))


def test_a_rejected_or_executed_request_is_not_extended(request_):
    erasure.erasure_request_reject(actor=SYSTEM, request=request_, reason="legal hold")
    with pytest.raises(Conflict, match="can no longer be extended"):
        _extend(request_, 1)
    assert ErasureRequest.objects.get(pk=request_.pk).extension_months == 0


def test_the_api_extends_and_names_bad_fields(project, make_client):
    officer = make_client("compliance_officer", project)
    created = officer.post(
        "/api/v1/erasure-requests/", {"subject_id": "dora", "reference": "DSR-API"}, format="json"
    ).json()
    url = f"/api/v1/erasure-requests/{created['id']}/extend/"
    bad = officer.post(url, {"months": 5, "reason": "x"}, format="json")
    assert bad.status_code == 400 and "months" in bad.json()["error"]["fields"]
    done = officer.post(url, {"months": 1, "reason": "backlog after a breach"}, format="json")
    assert done.status_code == 200, done.content
    body = done.json()
    assert (body["extension_months"], body["extension_reason"]) == (1, "backlog after a breach")
    assert body["due_at"] > created["due_at"]
    assert body["days_left"] == deadlines.days_left(
        datetime.fromisoformat(body["due_at"].replace("Z", "+00:00")), datetime.now(UTC)
    )
