"""The cost dashboard's form: the project, the range of UTC days and the grouping of the table (what the page shows
is llmops.presenters.costs)."""

from __future__ import annotations

from django import forms

from llmops.presenters.costs import GROUPINGS
from registry.models import Project

MAX_DASHBOARD_DAYS = 400


# The cost dashboard ------------------------------------------------------------------------------


class CostsForm(forms.Form):
    project = forms.ModelChoiceField(
        queryset=Project.objects.none(), required=False, empty_label="All my projects", to_field_name="slug"
    )
    start = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), label="From"
    )
    end = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), label="Until"
    )
    group_by = forms.ChoiceField(choices=GROUPINGS, required=False, label="Table by")

    def __init__(self, *args, projects, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = projects

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and start > end:
            self.add_error("end", "Must be on or after the start.")
        elif start and end and (end - start).days >= MAX_DASHBOARD_DAYS:
            self.add_error("start", f"At most {MAX_DASHBOARD_DAYS} days at once.")
        return cleaned
