"""Fairness audits and policies in admin: the audit list and page (read-only, with the chart), the "Run an
audit" page, the policy form (saved through the service, officers only), project scoping, query counts, and
the chart's SVG itself."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import numpy as np
import pytest
from django.contrib.auth import get_user_model
from django.forms import ValidationError
from django.urls import reverse
from sklearn.model_selection import train_test_split
from sklego.datasets import load_arrests

from governance import demo
from governance.admin.fairness import parse_positive_label
from governance.charts import fairness_chart_svg
from governance.models import Decision, FairnessAudit, Policy
from governance.services import decisions_ingest, outcomes_record
from governance.services.fairness import fairness_audit_run
from registry import services
from registry.actors import Actor
from registry.models import AuditEvent
from tests import factories as f
from tests.helpers import staff_client

AUDITS = reverse("admin:governance_fairnessaudit_changelist")
RUN = reverse("admin:governance_fairnessaudit_run")
SVG = re.compile(r'<svg [^>]*class="fairness-chart".*?</svg>', re.DOTALL)
MARCH = datetime(2026, 3, 2, tzinfo=UTC)
APRIL = datetime(2026, 4, 2, tzinfo=UTC)


def audit_page(audit: FairnessAudit, name: str = "change") -> str:
    return reverse(f"admin:governance_fairnessaudit_{name}", args=[audit.pk])


def log(version, group: str, n: int, *, predicted_yes: int, outcome_yes: int, at: datetime = MARCH) -> None:
    """n decisions of one group: the first `predicted_yes` predicted "Yes", the first `outcome_yes` outcomes "Yes"."""
    f.log_months(version.project, at)
    Decision.objects.bulk_create(
        f.DecisionFactory.build(
            model_version=version,
            project=version.project,
            sensitive={"group": group},
            prediction="Yes" if i < predicted_yes else "No",
            outcome="Yes" if i < outcome_yes else "No",
            outcome_at=at,
            occurred_at=at,
        )
        for i in range(n)
    )


def run_audit(version, features=("group",), **extra) -> FairnessAudit:
    return fairness_audit_run(
        actor=Actor.system(), model_version=version, sensitive_features=list(features), positive_label="Yes", **extra
    )


@pytest.fixture
def audited(chain):
    """Group a is selected at 0.5, b at 0.2 (below four fifths of a's), c is too small to compare; audited by
    the policy's attribute (so a failure alerts)."""
    Policy.objects.update_or_create(project=chain.project, defaults={"required_sensitive_features": ["group"]})
    log(chain.version, "a", 100, predicted_yes=50, outcome_yes=60)
    log(chain.version, "b", 100, predicted_yes=20, outcome_yes=30)
    log(chain.version, "c", 12, predicted_yes=6, outcome_yes=6)
    chain.audit = run_audit(chain.version)
    return chain


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# The chart -----------------------------------------------------------------------------------------


GROUPS = [
    {
        "group": {"colour": "Black", "sex": "Male"},
        "count": 320,
        "selection_rate": 0.21,
        "tpr": 0.31,
        "fpr": 0.09,
        "intervals": {"selection_rate": [0.17, 0.25], "tpr": [0.25, 0.37], "fpr": [0.05, 0.13]},
    },
    {
        "group": {"colour": "<script>", "sex": 'F & "x"'},
        "count": 900,
        "selection_rate": 0.38,
        "tpr": 0.49,
        "fpr": None,  # no negative outcomes in the group
        "intervals": {"selection_rate": [0.35, 0.41], "tpr": [0.45, 0.53], "fpr": None},
    },
    {
        "group": {"colour": "White\x00\x1b", "sex": "Female"},
        "count": 110,
        "selection_rate": 0.33,
        "tpr": 0.42,
        "fpr": 0.12,
        "intervals": {},
    },
]


def chart(groups=GROUPS, **kwargs) -> ET.Element:
    svg = fairness_chart_svg(groups, attributes=["colour", "sex"], positive_label="Yes", **kwargs)
    return svg, ET.fromstring(svg)


def bars(root: ET.Element, metric: str) -> list[ET.Element]:
    return [e for e in root.iter("{http://www.w3.org/2000/svg}rect") if e.get("data-metric") == metric]


def texts(root: ET.Element) -> list[str]:
    return ["".join(e.itertext()) for e in root.iter("{http://www.w3.org/2000/svg}text")]


def test_chart_is_valid_svg_with_one_bar_per_group_and_escaped_labels():
    svg, root = chart()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert len(bars(root, "selection_rate")) == 3
    assert len(bars(root, "tpr")) == 3
    assert len(bars(root, "fpr")) == 2  # the undefined rate is written "no data", not drawn as 0
    assert "no data" in texts(root)
    assert "<script>" not in svg
    assert '&lt;script&gt;, F &amp; "x" (n=900)' in svg
    assert '<script>, F & "x" (n=900)' in texts(root)  # what a reader sees, once parsed
    assert "White\ufffd\ufffd, Female (n=110)" in texts(root)  # control characters cannot go into XML
    assert [g.get("data-group") for g in root.iter("{http://www.w3.org/2000/svg}g") if g.get("data-group")][:3] == [
        "Black, Male",
        '<script>, F & "x"',
        "White\ufffd\ufffd, Female",
    ]


def test_chart_draws_the_four_fifths_line_and_hatches_the_groups_below_it():
    _, root = chart(min_ratio=0.8, max_odds_difference=0.1)
    line = next(e for e in root.iter("{http://www.w3.org/2000/svg}line") if e.get("class") == "four-fifths")
    selection = bars(root, "selection_rate")
    left = float(selection[0].get("x"))
    full = float(selection[1].get("width")) / 0.38  # the width of rate 1.0
    assert float(line.get("x1")) == pytest.approx(left + 0.8 * 0.38 * full, abs=0.1)
    assert [bar.get("fill") for bar in selection] == ["url(#fairness-chart-below)", "#4f7cac", "#4f7cac"]
    assert "0.8 × highest" in texts(root)
    assert "gap 0.180" in texts(root)  # TPR: 0.49 - 0.31, above the policy's 0.1
    whiskers = [g for g in root.iter("{http://www.w3.org/2000/svg}g") if g.get("class") == "whisker"]
    assert len(whiskers) == 2 + 2 + 1  # no whisker where a group has no interval
    ticks = [t for t in texts(root) if re.fullmatch(r"\d\.\d", t)]
    assert ticks[:6] == ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]


def test_positive_label_is_json_when_it_parses():
    assert parse_positive_label("Yes") == "Yes"
    assert parse_positive_label("1") == 1
    assert parse_positive_label('"1"') == "1"
    assert parse_positive_label("true") is True
    assert parse_positive_label("NaN") == "NaN"
    for bad in ("null", "[1]", '{"a": 1}'):
        with pytest.raises(ValidationError):
            parse_positive_label(bad)


# The audit list and page ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scored():
    """A real classifier's predictions on the arrests test split (as in test_fairness.py)."""
    raw = load_arrests(as_frame=True)
    raw["arrest_id"] = [f"arrest-{i:05d}" for i in range(len(raw))]
    train, test = train_test_split(raw, test_size=0.3, stratify=raw["released"], random_state=7)
    model = demo._fit(train)
    test = test.copy()
    test["prediction"] = np.where(model.predict(test[list(demo.FEATURES)]), "Yes", "No")
    return test.reset_index(drop=True)


@pytest.fixture
def arrests(scored, chain):
    """The test split logged through the services, outcomes attached, audited by colour and sex."""
    key, _ = services.api_key_create(actor=Actor.system(), project=chain.project, role="ingest", name="serving")
    ingest = Actor.for_key(key)
    rows = list(scored.itertuples())
    decisions_ingest(
        actor=ingest,
        items=[
            {
                "model_version": chain.version.pk,
                "request_id": row.arrest_id,
                "features": {"checks": int(row.checks)},
                "sensitive": {"colour": row.colour, "sex": row.sex},
                "prediction": row.prediction,
                "occurred_at": "2026-03-01T12:00:00Z",
            }
            for row in rows
        ],
    )
    outcomes_record(
        actor=ingest,
        items=[{"model_version": chain.version.pk, "request_id": r.arrest_id, "outcome": r.released} for r in rows],
    )
    chain.audit = run_audit(chain.version, ["colour", "sex"])
    return chain


def test_pages_render_for_a_superuser_with_a_real_audit(admin_client, arrests):
    audit = arrests.audit
    response = admin_client.get(AUDITS)
    assert response.status_code == 200
    body = response.content.decode()
    assert list(response.context["cl"].result_list) == [audit]
    for text in (
        "credit v1",
        "colour, sex",
        f"{audit.row_count:,}",
        f"{audit.disparities['equalized_odds_difference']:.3f}",
    ):
        assert text in body
    assert ("failed" if not audit.passed else "passed") in body
    assert RUN in body

    response = admin_client.get(audit_page(audit))
    assert response.status_code == 200
    body = response.content.decode()
    assert len(SVG.findall(body)) == 1
    root = ET.fromstring(SVG.search(body).group(0))
    assert len(bars(root, "selection_rate")) == len(audit.by_group)
    groups = response.context["fairness"]["groups"]
    assert [g["values"] for g in groups] == [[g["group"]["colour"], g["group"]["sex"]] for g in audit.by_group]
    first = audit.by_group[0]
    low, high = first["intervals"]["selection_rate"]
    assert f"{first['selection_rate']:.3f}" in body
    assert f"{low:.3f}–{high:.3f}" in body
    assert "Demographic parity ratio" in body
    assert f"≥ {audit.policy['min_demographic_parity_ratio']:g}" in body
    for check in audit.failed_checks:
        assert check["message"][1:] in body  # capitalised on the page
    assert "True positive rate" in body and "Groups compared" in body


def test_the_page_shows_thresholds_values_messages_and_small_groups_apart(admin_client, audited):
    audit = audited.audit
    assert not audit.passed
    assert [g["group"]["group"] for g in audit.small_groups] == ["c"]
    response = admin_client.get(audit_page(audit))
    fairness = response.context["fairness"]
    assert [(c["name"], c["threshold"], c["value"], c["passed"]) for c in fairness["checks"]] == [
        ("Demographic parity ratio", "≥ 0.8", "0.400", False),
        (
            "Equalized odds difference",
            "≤ 0.1",
            figure_of(audit, "equalized_odds_difference"),
            not any(c["check"] == "equalized_odds_difference" for c in audit.failed_checks),
        ),
    ]
    body = response.content.decode()
    assert "Demographic parity ratio 0.400 is below 0.8." in body
    assert [g["values"] for g in fairness["groups"]] == [["a"], ["b"]]
    assert [g["values"] for g in fairness["small_groups"]] == [["c"]]
    assert "Small groups, not compared" in body
    assert [cell["below"] for cell in fairness["groups"][1]["rates"]][0] is True  # b: 0.2 < 0.8 x 0.5
    root = ET.fromstring(SVG.search(body).group(0))
    assert len(bars(root, "selection_rate")) == 2  # the small group is not charted
    trail = admin_client.get(fairness["audit_trail_url"])
    events = [event.event_type for event in trail.context["cl"].result_list]
    assert sorted(events) == ["alert.raised", "fairness.audited"]  # a failed audit raises an alert


def test_group_values_from_clients_are_escaped_on_the_page(admin_client, chain):
    log(chain.version, "<script>alert(1)</script>", 40, predicted_yes=20, outcome_yes=20)
    log(chain.version, "b", 40, predicted_yes=18, outcome_yes=20)
    body = admin_client.get(audit_page(run_audit(chain.version))).content.decode()
    assert "<script>alert(1)" not in body
    assert body.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 2  # the table and the chart
    root = ET.fromstring(SVG.search(body).group(0))
    assert "<script>alert(1)</script> (n=40)" in texts(root)


def figure_of(audit, name: str) -> str:
    return f"{audit.disparities[name]:.3f}"


def test_audits_are_read_only_even_for_superusers(admin_client, audited):
    audit = audited.audit
    assert admin_client.get(reverse("admin:governance_fairnessaudit_add")).status_code == 403
    body = admin_client.get(audit_page(audit)).content.decode()
    assert 'name="_save"' not in body
    assert admin_client.post(audit_page(audit), {"passed": "on"}).status_code == 403
    assert admin_client.post(audit_page(audit, "delete"), {"post": "yes"}).status_code == 403
    changelist = admin_client.get(AUDITS).content.decode()
    assert "delete_selected" not in changelist
    assert reverse("admin:governance_fairnessaudit_add") not in changelist
    audit.refresh_from_db()
    assert audit.passed is False
    assert FairnessAudit.objects.count() == 1


def test_filters(admin_client, audited):
    log(audited.version, "d", 100, predicted_yes=50, outcome_yes=50)
    passing = run_audit(audited.version, window_start=MARCH)  # a, b and d compared: still failing
    assert not passing.passed
    for params, expected in (
        ({"result": "failed"}, 2),
        ({"result": "passed"}, 0),
        ({"model_version__model__id__exact": audited.model.pk}, 2),
        ({"project__id__exact": audited.project.pk}, 2),
        ({"created_at__year": audited.audit.created_at.year}, 2),
    ):
        response = admin_client.get(AUDITS, params)
        assert response.status_code == 200, params
        assert response.context["cl"].result_count == expected, params


# Running an audit ----------------------------------------------------------------------------------


@pytest.fixture
def officer(project):
    return staff_client("olga", "compliance_officer", project)


def run_form(version, **fields) -> dict:
    return {"model_version": version.pk, "sensitive_features": "group", "positive_label": "Yes", **fields}


def test_run_an_audit_creates_it_through_the_service(officer, chain):
    log(chain.version, "a", 100, predicted_yes=50, outcome_yes=50)
    log(chain.version, "b", 100, predicted_yes=45, outcome_yes=50)
    changelist = officer.get(AUDITS).content.decode()
    assert RUN in changelist
    assert officer.get(RUN).status_code == 200
    response = officer.post(RUN, run_form(chain.version, sensitive_features=" group , "), follow=True)
    audit = FairnessAudit.objects.get()
    assert response.redirect_chain == [(audit_page(audit), 302)]
    assert audit.sensitive_features == ["group"]
    assert audit.positive_label == "Yes"
    assert audit.created_by_user.username == "olga"
    assert audit.passed
    assert messages_of(response) == ["Fairness audit of credit v1 by group, 200 decisions: passed."]
    event = AuditEvent.objects.get(event_type="fairness.audited")
    assert (event.actor_name, event.target_id) == ("user:olga", str(audit.pk))


def test_a_one_group_window_is_an_error_on_the_form_not_a_500(officer, chain):
    log(chain.version, "a", 100, predicted_yes=50, outcome_yes=50)
    log(chain.version, "b", 100, predicted_yes=20, outcome_yes=50)
    log(chain.version, "a", 40, predicted_yes=20, outcome_yes=20, at=APRIL)
    window = {"window_start_0": "2026-04-01", "window_start_1": "00:00:00"}
    response = officer.post(RUN, run_form(chain.version, **window))
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "sensitive_features": ["the decisions form one group only (group=a): nothing to compare"]
    }
    assert "nothing to compare" in response.content.decode()

    response = officer.post(RUN, run_form(chain.version, window_start_0="2027-01-01", window_start_1="00:00:00"))
    assert response.context["form"].errors == {
        "window_start": ["no decisions with outcomes (and the sensitive attributes) in this window"]
    }
    window_end = {"window_end_0": "2026-03-01", "window_end_1": "00:00:00"}
    response = officer.post(RUN, run_form(chain.version, **window, **window_end))
    assert response.context["form"].errors == {"window_end": ["must be after window_start"]}
    response = officer.post(RUN, run_form(chain.version, sensitive_features=" , ", positive_label="null"))
    assert set(response.context["form"].errors) == {"sensitive_features", "positive_label"}
    response = officer.post(RUN, run_form(chain.version, sensitive_features="group, group"))
    assert response.context["form"].errors == {"sensitive_features": ["names an attribute twice"]}
    assert not FairnessAudit.objects.exists()

    response = officer.post(RUN, run_form(chain.version, window_start_0="2026-03-01", window_start_1="00:00:00"))
    assert response.status_code == 302
    assert FairnessAudit.objects.get().window_start == datetime(2026, 3, 1, tzinfo=UTC)


def test_the_run_page_offers_only_versions_where_the_user_audits(project, other_project, chain):
    analyst = staff_client("rita", "risk_analyst", other_project)
    services.membership_set(
        actor=Actor.system(),
        user=get_user_model().objects.get(username="rita"),
        project=project,
        role="data_scientist",
    )
    theirs = f.ModelVersionFactory(model__project=other_project, model__name="claims")
    response = analyst.get(RUN)
    assert list(response.context["form"].fields["model_version"].queryset) == [theirs]
    response = analyst.post(RUN, run_form(chain.version))  # acme: a data scientist there
    assert "model_version" in response.context["form"].errors
    assert not FairnessAudit.objects.exists()

    scientist = staff_client("dana", "data_scientist", project)
    assert scientist.get(AUDITS).status_code == 200  # may read audits
    assert RUN not in scientist.get(AUDITS).content.decode()
    assert scientist.get(RUN).status_code == 403
    assert scientist.post(RUN, run_form(chain.version)).status_code == 403


# Scoping and query counts --------------------------------------------------------------------------


def test_other_projects_audits_are_hidden(audited, other_project, officer):
    theirs = f.ModelVersionFactory(model__project=other_project, model__name="claims")
    log(theirs, "x", 50, predicted_yes=25, outcome_yes=25)
    log(theirs, "y", 50, predicted_yes=20, outcome_yes=25)
    hidden = run_audit(theirs)
    response = officer.get(AUDITS)
    assert list(response.context["cl"].result_list) == [audited.audit]
    assert "globex" not in response.content.decode()  # not even in the filters
    assert officer.get(audit_page(audited.audit)).status_code == 200
    assert officer.get(audit_page(hidden)).status_code == 302  # "does not exist", like an unknown id


def test_changelist_does_not_query_per_row(admin_client, audited, other_project, django_assert_max_num_queries):
    audit = audited.audit
    fields = {
        name: getattr(audit, name)
        for name in (
            "sensitive_features",
            "positive_label",
            "row_count",
            "overall",
            "by_group",
            "small_groups",
            "disparities",
            "policy",
            "bootstrap",
            "passed",
            "failed_checks",
        )
    }
    # session, user, the model and project filters' choices, two counts, the page, the date hierarchy (two)
    with django_assert_max_num_queries(9) as few:
        assert admin_client.get(AUDITS).status_code == 200
    versions = [f.ModelVersionFactory(model=audited.model) for _ in range(3)]
    versions += [f.ModelVersionFactory(model__project=other_project) for _ in range(3)]
    FairnessAudit.objects.bulk_create(
        FairnessAudit(project=version.project, model_version=version, **fields)
        for version in versions
        for _ in range(10)
    )
    with django_assert_max_num_queries(len(few.captured_queries)) as many:
        response = admin_client.get(AUDITS)
    assert response.context["cl"].result_count == 61
    assert not any('"by_group"' in query["sql"] for query in many.captured_queries)  # the list leaves it out
    assert len(response.context["cl"].result_list) == 50
