"""Template filters that draw governance presenters' plain data as the admin kit draws it in Python.

Why filters: a presenter (governance.presenters) returns values, never HTML; the few pieces a page draws the same
way everywhere (a badge, a timestamp on one line, a shortened hash, days left, a chart's SVG) are drawn here once,
with the same markup as registry.admin.kit's helpers, so a page looks as it did when the admin built the HTML.
"""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from governance import charts
from registry.admin.kit import EMPTY

register = template.Library()


@register.filter
def badge(value):
    """A presenters.common.Badge as registry.admin.kit.badge draws it."""
    if not value:
        return ""
    return format_html('<span class="badge badge-{}">{}</span>', value["tone"], value["text"])


@register.filter
def nowrap(value):
    """A timestamp (or any short value) kept on one line, as registry.admin.kit.when draws it; the empty value
    as the admin shows it."""
    if value in (None, "", EMPTY):
        return EMPTY
    return format_html('<span class="nowrap">{}</span>', value)


@register.filter
def short_hash(value):
    """A presenters.common.Hash as registry.admin.kit.short_hash draws it."""
    if not value or not value["full"]:
        return EMPTY
    return format_html('<code title="{}" class="nowrap">{}…</code>', value["full"], value["short"])


@register.filter
def link(value):
    """A presenters.common.Link as registry.admin.kit.link draws it."""
    if not value:
        return EMPTY
    return format_html('<a href="{}">{}</a>', value["url"], value["label"])


@register.filter
def days_left(value):
    """A presenters.erasure.DaysLeft: coloured within a week and once overdue, the due date on hover; a dash
    once the request is closed."""
    if value is None:
        return "—"
    classes = "nowrap" + (f" text-{value['tone']}" if value["tone"] else "")
    return format_html('<span class="{}" title="{}">{}</span>', classes, value["due"], value["text"])


# Charts: governance.charts builds each SVG from the presenter's chart data and escapes every text it places.


@register.filter
def fairness_chart(value):
    return mark_safe(charts.fairness_chart_svg(**value)) if value else ""  # noqa: S308 - charts escapes its texts


@register.filter
def drift_psi_chart(value):
    return mark_safe(charts.drift_psi_chart_svg(**value)) if value else ""  # noqa: S308 - charts escapes its texts


@register.filter
def drift_feature_chart(value):
    return mark_safe(charts.drift_feature_svg(**value)) if value else ""  # noqa: S308 - charts escapes its texts


@register.filter
def performance_chart(value):
    return mark_safe(charts.performance_chart_svg(**value)) if value else ""  # noqa: S308 - charts escapes its texts


@register.inclusion_tag("admin/governance/home_cards.html", takes_context=True)
def compliance_home(context):
    """The home's cards for the person looking (governance.presenters.home), `?project=` narrowing them."""
    from django.utils import timezone

    from governance.presenters.home import home_page
    from registry.admin.kit import admin_actor

    request = context["request"]
    return {"page": home_page(admin_actor(request), project_slug=request.GET.get("project"), now=timezone.now())}
