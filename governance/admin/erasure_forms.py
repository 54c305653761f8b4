"""The erasure request forms and the officer's operations (trace, execute, reject, extend), each with a
confirmation page."""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.contrib.admin import widgets

from governance.erasure_states import ErasureOperation, statuses_allowing
from governance.models import (
    ErasureRequest,
)


class WriteOnlyInput(forms.TextInput):
    """A text box that never sends its value back to the browser (not even after a form error)."""

    def get_context(self, name, value, attrs):
        return super().get_context(name, None, attrs)


class ErasureRequestForm(forms.ModelForm):
    subject_id = forms.CharField(
        label="Subject id",
        max_length=512,
        strip=True,
        widget=WriteOnlyInput(attrs={"autocomplete": "off", "spellcheck": "false", "size": 40}),
        help_text="The data subject's id as your systems know it (customer number, e-mail…). Only its "
        "pseudonymous key is kept: the id itself is never stored and never shown again.",
    )
    received_at = forms.SplitDateTimeField(
        label="Received at",
        required=False,
        widget=widgets.AdminSplitDateTime,
        help_text="UTC. Leave empty for now. The request is due 30 days after it was received.",
    )

    class Meta:
        model = ErasureRequest
        fields = ["project", "reference", "received_at"]
        help_texts = {"reference": "Your ticket or case reference. Never the person's name or identifiers."}


class ExecuteForm(forms.Form):
    confirm = forms.BooleanField(
        label="I confirm the erasure",
        error_messages={"required": "Tick the box to confirm: an erasure cannot be undone."},
        help_text="Recorded in the audit trail under your name.",
    )


class RejectForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "cols": 70}),
        help_text="Recorded with the rejection, under your name (for example the legal obligation to keep "
        "the data). Do not write the person's identifiers.",
    )

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Give a reason.")
        return reason


class ExtendForm(forms.Form):
    months = forms.TypedChoiceField(
        label="Extend by",
        choices=[(1, "one further month"), (2, "two further months")],
        coerce=int,
        help_text="GDPR Art. 12(3): at most two further months, decided within the first month; the due date "
        "becomes the end of that month period from receipt.",
    )
    reason = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 70}),
        help_text="Why the answer takes longer (the complexity or number of requests): the person must be told. "
        "Recorded under your name. Do not write the person's identifiers.",
    )

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Give a reason.")
        return reason


@dataclass(frozen=True)
class Operation:
    """One of the officer's operations on a request: an admin action and a page of its own, both with a
    confirmation page, calling the erasure service."""

    name: str
    action: str
    title: str
    button: str
    form_class: type[forms.Form]
    from_statuses: tuple[str, ...]


OPERATIONS = {
    op.name: op
    for op in [
        Operation(
            "trace",
            "trace_requests",
            "Trace erasure requests",
            "Trace",
            forms.Form,
            statuses_allowing(ErasureOperation.TRACE),
        ),
        Operation(
            "execute",
            "execute_requests",
            "Execute erasure",
            "Execute erasure",
            ExecuteForm,
            statuses_allowing(ErasureOperation.EXECUTE),
        ),
        Operation(
            "reject",
            "reject_requests",
            "Reject erasure requests",
            "Reject",
            RejectForm,
            statuses_allowing(ErasureOperation.REJECT),
        ),
        Operation(
            "extend",
            "extend_requests",
            "Extend the deadline of erasure requests",
            "Extend the deadline",
            ExtendForm,
            statuses_allowing(ErasureOperation.EXTEND),
        ),
    ]
}
