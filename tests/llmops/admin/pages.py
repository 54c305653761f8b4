"""Helpers of the LLMOps admin tests: admin URLs, the pages every role opens, SVGs and messages of a response."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from django.urls import reverse

NS = "{http://www.w3.org/2000/svg}"
A = "admin:llmops_"
COSTS = reverse("admin:llmops_llmcall_costs")
COMPARE = reverse("admin:llmops_evaluationrun_compare")
USAGE = {"prompt_tokens": 2000, "completion_tokens": 100, "prompt_tokens_details": {"cached_tokens": 1500}}
POLITE = "You answer bank customers briefly and politely."
CUSTOMER = "customer-4711"


def url(name: str, *args) -> str:
    return reverse(A + name, args=args)


def page(obj, name: str = "change") -> str:
    return reverse(f"{A}{obj._meta.model_name}_{name}", args=[obj.pk])


def svgs(body: str, css_class: str) -> list[ET.Element]:
    return [ET.fromstring(svg) for svg in re.findall(rf'<svg [^>]*class="{css_class}".*?</svg>', body, re.DOTALL)]


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def pages(llm) -> list[str]:
    return [
        reverse("admin:app_list", args=["llmops"]),
        url("prompttemplate_changelist"),
        page(llm.template),
        url("prompttemplate_diff", llm.template.pk) + "?a=1&b=2",
        url("promptversion_changelist"),
        page(llm.v1),
        page(llm.v3),
        url("llmcall_changelist"),
        url("llmcall_changelist") + "?model=gpt-9-turbo&cost_status__exact=unpriced",
        url("llmcall_changelist")
        + f"?prompt_version__template__id__exact={llm.template.pk}&prompt_version={llm.v1.pk}",
        page(llm.calls["c1"]),
        page(llm.calls["c4"]),
        COSTS,
        COSTS + "?start=2026-02-01&end=2026-02-28&group_by=tag",
        COSTS + "?group_by=prompt_version",
        COSTS + "?group_by=day",
        url("price_changelist"),
        page(llm.price),
        url("budget_changelist"),
        page(llm.budget),
        url("evaluationrun_changelist"),
        page(llm.run1),
        COMPARE,
        COMPARE + f"?a={llm.run1.pk}&b={llm.run3.pk}",
        url("evaluationdataset_changelist"),
        page(llm.dataset),
    ]
