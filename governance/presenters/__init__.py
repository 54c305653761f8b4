"""What governance's custom admin pages and change-form sections show, computed apart from the admin.

Each presenter is a function of records (or of what a selector returned) that gives typed data: TypedDicts of
plain values, display strings (figures, UTC timestamps) and URLs as strings, never HTML. Why apart: the admin
module only calls the presenter and renders a template, the templates (admin/governance/...) lay the data out,
and the data is tested directly (tests/governance/presenters/), not through substrings of a page. The few
pieces the templates draw from the data (a badge, a timestamp kept on one line, a shortened hash, a chart's
SVG) are the template filters of governance.templatetags.governance_admin.
"""
