"""The admin kit: badges in the tones declared on the choices, the one ServiceError-to-form mapping, the defer
mixin, the page context, the display helpers and the filters."""

from __future__ import annotations

import re

import pytest
from django import forms
from django.contrib import admin
from django.test import RequestFactory

from governance.models import DriftReport, ErasureRequest, FairnessAudit, PerformanceReport, WebhookDelivery
from llmops.models import EvaluationRun, LLMCall
from registry.admin.kit import (
    STYLESHEET,
    BooleanFieldFilter,
    PresenceFilter,
    ReadOnlyAdmin,
    Tone,
    apply_service_error,
    badge,
    choice_badge,
    json_scalar,
    plural,
    short_hash,
    when,
)
from registry.errors import ServiceError, field_error
from registry.models import Deployment, Run, Stage
from registry.tones import declare_tones, tone_of

TONED_CHOICES = [Stage, ErasureRequest.Status, WebhookDelivery.Status, LLMCall.Status, EvaluationRun.Status]


# Badges and tones ----------------------------------------------------------------------------------


def test_badge_is_a_span_with_the_class_of_its_tone():
    assert str(badge("passed", Tone.SUCCESS)) == '<span class="badge badge-success">passed</span>'
    assert str(badge("failed", "danger")) == '<span class="badge badge-danger">failed</span>'


def test_badge_escapes_its_text_and_refuses_an_unknown_tone():
    assert str(badge("<b>x</b>", Tone.NEUTRAL)) == '<span class="badge badge-neutral">&lt;b&gt;x&lt;/b&gt;</span>'
    with pytest.raises(ValueError, match="is not a valid Tone"):
        badge("x", "#b91c1c")  # a colour is not a tone: colours live in the stylesheet


@pytest.mark.parametrize(
    ("choices", "value", "tone"),
    [
        (Stage, Stage.NONE, Tone.NEUTRAL),
        (Stage, Stage.STAGING, Tone.WARNING),
        (Stage, Stage.PRODUCTION, Tone.SUCCESS),
        (Stage, Stage.ARCHIVED, Tone.MUTED),
        (ErasureRequest.Status, "received", Tone.INFO),
        (ErasureRequest.Status, "traced", Tone.ACCENT),
        (ErasureRequest.Status, "executed", Tone.WARNING),
        (ErasureRequest.Status, "completed", Tone.SUCCESS),
        (ErasureRequest.Status, "rejected", Tone.NEUTRAL),
        (WebhookDelivery.Status, "pending", Tone.WARNING),
        (WebhookDelivery.Status, "succeeded", Tone.SUCCESS),
        (WebhookDelivery.Status, "failed", Tone.DANGER),
        (LLMCall.Status, "ok", Tone.SUCCESS),
        (LLMCall.Status, "error", Tone.DANGER),
        (EvaluationRun.Status, "finished", Tone.SUCCESS),
        (EvaluationRun.Status, "failed", Tone.DANGER),
    ],
)
def test_each_choice_has_the_tone_declared_beside_it(choices, value, tone):
    assert tone_of(choices, value) is tone
    assert str(choice_badge(choices, value)) == f'<span class="badge badge-{tone.value}">{value}</span>'


@pytest.mark.parametrize("choices", TONED_CHOICES)
def test_every_value_of_a_toned_choices_class_has_a_tone(choices):
    assert set(choices.tones) == set(choices.values)


def test_an_unknown_value_is_neutral():
    assert tone_of(Stage, "nonsense") is Tone.NEUTRAL
    assert str(choice_badge(Stage, "")) == '<span class="badge badge-neutral"></span>'


def test_declaring_tones_must_cover_every_value_and_no_other():
    class Colour:  # any class with `values`, as TextChoices have
        values = ["red", "green"]

    with pytest.raises(ValueError, match=r"missing \['green'\]"):
        declare_tones(Colour, {"red": Tone.DANGER})
    with pytest.raises(ValueError, match=r"unknown \['blue'\]"):
        declare_tones(Colour, {"red": Tone.DANGER, "green": Tone.SUCCESS, "blue": Tone.INFO})
    declare_tones(Colour, {"red": Tone.DANGER, "green": "success"})
    assert Colour.tones == {"red": Tone.DANGER, "green": Tone.SUCCESS}


def test_the_stylesheet_has_a_class_for_every_tone():
    from django.contrib.staticfiles import finders

    css = open(finders.find(STYLESHEET)).read()  # noqa: SIM115, PTH123 - a test reads one small file
    for tone in Tone:
        assert re.search(rf"\.badge-{tone.value} \{{ background: #[0-9a-f]{{6}}; \}}", css), tone


# Display helpers -----------------------------------------------------------------------------------


def test_display_helpers_use_classes_not_inline_styles():
    from datetime import UTC, datetime

    at = datetime(2026, 2, 1, 9, tzinfo=UTC)
    assert str(when(at)) == '<span class="nowrap">2026-02-01 09:00 UTC</span>'
    assert str(when(at, suffix=False)) == '<span class="nowrap">2026-02-01 09:00</span>'
    assert str(short_hash("a" * 64)) == f'<code title="{"a" * 64}" class="nowrap">{"a" * 12}…</code>'
    assert when(None) == short_hash("") == "-"


def test_plural_and_json_scalar():
    assert (plural(1, "day"), plural(2, "day"), plural(1200, "call")) == ("1 day", "2 days", "1,200 calls")
    assert (json_scalar("Yes"), json_scalar(1), json_scalar(True), json_scalar(None)) == ("Yes", "1", "true", "")


# apply_service_error -------------------------------------------------------------------------------


class NameForm(forms.Form):
    name = forms.CharField()
    size = forms.IntegerField(required=False)


def bound_form() -> NameForm:
    form = NameForm({"name": "x"})
    assert form.is_valid()
    return form


def test_a_field_error_lands_on_its_field():
    form = bound_form()
    apply_service_error(form, field_error("name", "already taken"))
    assert form.errors == {"name": ["already taken"]}
    assert form.non_field_errors() == []


def test_several_field_errors_land_on_their_fields_and_unknown_fields_are_left_out():
    form = bound_form()
    error = ServiceError("invalid", fields={"name": ["too long"], "size": ["too big"], "elsewhere": ["?"]})
    apply_service_error(form, error)
    assert form.errors == {"name": ["too long"], "size": ["too big"]}


def test_an_error_on_no_field_of_the_form_is_a_non_field_error_with_the_message():
    form = bound_form()
    apply_service_error(form, field_error("project", "not yours"))
    assert form.errors == {"__all__": ["project: not yours"]}
    form = bound_form()
    apply_service_error(form, ServiceError("the gate refuses it"))
    assert list(form.non_field_errors()) == ["the gate refuses it"]


# The defer mixin and the page context --------------------------------------------------------------


class DeferringRunAdmin(ReadOnlyAdmin):
    list_defer = ("params", "metrics", "environment")


@pytest.fixture
def superuser_request(admin_user):
    request = RequestFactory().get("/admin/registry/run/")
    request.user = admin_user
    return request


def test_the_defer_mixin_defers_the_listed_columns_in_the_changelist(superuser_request):
    model_admin = DeferringRunAdmin(Run, admin.site)
    changelist = model_admin.get_changelist_instance(superuser_request)
    assert changelist.queryset.query.deferred_loading == (frozenset({"params", "metrics", "environment"}), True)
    # a record's own page (get_queryset) still loads them
    assert model_admin.get_queryset(superuser_request).query.deferred_loading == (frozenset(), True)


def test_without_list_defer_the_changelist_defers_nothing(superuser_request):
    changelist = ReadOnlyAdmin(Run, admin.site).get_changelist_instance(superuser_request)
    assert changelist.queryset.query.deferred_loading == (frozenset(), True)


@pytest.mark.parametrize(
    ("model", "deferred"),
    [
        (ErasureRequest, {"trace", "execution"}),
        (FairnessAudit, {"overall", "by_group", "small_groups", "policy", "bootstrap"}),
        (DriftReport, {"features", "policy"}),
        (PerformanceReport, {"windows"}),
        (LLMCall, {"input", "output", "error"}),
        (EvaluationRun, {"evaluators"}),
    ],
)
def test_the_registered_lists_leave_their_large_columns_in_the_database(superuser_request, model, deferred):
    changelist = admin.site._registry[model].get_changelist_instance(superuser_request)
    assert changelist.queryset.query.deferred_loading == (frozenset(deferred), True)


def test_the_page_context_is_built_once_from_the_admin(superuser_request):
    model_admin = ReadOnlyAdmin(Run, admin.site)
    form = NameForm()
    context = model_admin.page_context(superuser_request, title="A page", form=form, extra=1)
    assert context["title"] == "A page"
    assert context["subtitle"] is None
    assert context["opts"] is Run._meta
    assert context["form"] is form
    assert context["extra"] == 1
    assert context["has_view_permission"] is True
    assert context["site_header"] == admin.site.site_header  # the site's own context (each_context)
    assert STYLESHEET in str(context["media"])  # the stylesheet, through the admin's Media


def test_render_page_sets_the_current_app(superuser_request):
    response = ReadOnlyAdmin(Run, admin.site).render_page(
        superuser_request, "admin/registry/modelversion/transition.html", title="T"
    )
    assert superuser_request.current_app == admin.site.name
    assert response.context_data["title"] == "T"


# Filters -------------------------------------------------------------------------------------------


def test_presence_and_boolean_filters(superuser_request):
    class EndedFilter(PresenceFilter):
        title, parameter_name, field, labels = "ended", "ended", "ended_at", ("Ended", "Open")

    class ExploratoryFilter(BooleanFieldFilter):
        title, parameter_name, field = "exploratory", "exploratory", "exploratory"
        yes, no = ("y", "Exploratory"), ("n", "Gating")

    ended = EndedFilter(superuser_request, {"ended": ["yes"]}, Deployment, None)
    assert ended.lookups(superuser_request, None) == [("yes", "Ended"), ("no", "Open")]
    assert '"ended_at" IS NOT NULL' in str(ended.queryset(superuser_request, Deployment.objects.all()).query)
    gating = ExploratoryFilter(superuser_request, {"exploratory": ["n"]}, FairnessAudit, None)
    assert gating.lookups(superuser_request, None) == [("y", "Exploratory"), ("n", "Gating")]
    filtered = gating.queryset(superuser_request, FairnessAudit.objects.all())
    assert filtered.query.where.children[0].rhs is False
