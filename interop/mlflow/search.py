"""MLflow's search filter language (`metrics.acc > 0.9 and params.solver = 'lbfgs' and tags.team LIKE 'risk%'`),
`order_by` clauses and page tokens, over the runs, logged models and model versions of one project.

Supported: clauses joined by AND; `metrics.`, `params.`, `tags.`, `attributes.` (also `attribute.` and `run.`)
and bare attribute names; keys plain, `backquoted` or "double quoted"; =, !=, <, <=, >, >=, LIKE, ILIKE, IN and
NOT IN; numbers and 'single' or "double" quoted strings. Anything else is an INVALID_PARAMETER_VALUE naming
what was not understood."""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from interop.mlflow.protocol import INVALID_PARAMETER_VALUE, MlflowError

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
      | (?P<number>-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)
      | (?P<ident>(?:[A-Za-z_][\w]*\.)?(?:`[^`]+`|"[^"]+"|[A-Za-z_][\w.\-/:]*))
      | (?P<op>!=|<=|>=|=|<|>|\(|\)|,)
    )""",
    re.VERBOSE,
)
_WORDS = {"and", "like", "ilike", "in", "not"}


@dataclass(frozen=True)
class Clause:
    family: str  # metrics, params, tags, attributes
    key: str
    op: str
    value: object


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"`":
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    return text


def _tokens(text: str) -> list[tuple[str, str]]:
    out = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise MlflowError(INVALID_PARAMETER_VALUE, f"cannot parse the filter at {text[position : position + 30]!r}")
        kind = match.lastgroup
        value = match.group(kind)
        if kind == "ident" and value.lower() in _WORDS:
            kind, value = "word", value.lower()
        out.append((kind, value))
        position = match.end()
    return out


FAMILIES = {
    "metrics": "metrics",
    "metric": "metrics",
    "params": "params",
    "param": "params",
    "tags": "tags",
    "tag": "tags",
    "attributes": "attributes",
    "attribute": "attributes",
    "attr": "attributes",
    "run": "attributes",
    "dataset": "datasets",
    "datasets": "datasets",
}


def parse_filter(text: str) -> list[Clause]:
    tokens = _tokens(text or "")
    clauses: list[Clause] = []
    index = 0

    def take() -> tuple[str, str]:
        nonlocal index
        if index >= len(tokens):
            raise MlflowError(INVALID_PARAMETER_VALUE, f"the filter ends too early: {text!r}")
        index += 1
        return tokens[index - 1]

    while index < len(tokens):
        kind, ident = take()
        if kind != "ident":
            raise MlflowError(
                INVALID_PARAMETER_VALUE, f"expected a metrics., params., tags. or attribute name, got {ident!r}"
            )
        head, dot, rest = ident.partition(".")
        if dot and head.lower() in FAMILIES and not ident.startswith(("`", '"')):
            family, key = FAMILIES[head.lower()], _unquote(rest)
        else:
            family, key = "attributes", _unquote(ident)
        kind, op = take()
        if kind == "word" and op == "not":
            kind, nxt = take()
            if nxt != "in":
                raise MlflowError(INVALID_PARAMETER_VALUE, "NOT must be followed by IN")
            op = "not in"
        elif kind == "word" and op in ("like", "ilike", "in"):
            pass
        elif kind != "op" or op in ("(", ")", ","):
            raise MlflowError(INVALID_PARAMETER_VALUE, f"expected a comparison after {ident!r}, got {op!r}")
        if op in ("in", "not in"):
            if take()[1] != "(":
                raise MlflowError(INVALID_PARAMETER_VALUE, f"{op.upper()} takes a parenthesised list")
            values = []
            while True:
                kind, value = take()
                if kind not in ("string", "number"):
                    raise MlflowError(INVALID_PARAMETER_VALUE, f"expected a value in the list, got {value!r}")
                values.append(_unquote(value) if kind == "string" else float(value))
                kind, sep = take()
                if sep == ")":
                    break
                if sep != ",":
                    raise MlflowError(INVALID_PARAMETER_VALUE, f"expected , or ) in the list, got {sep!r}")
            value_out: object = values
        else:
            kind, value = take()
            if kind == "string":
                value_out = _unquote(value)
            elif kind == "number":
                value_out = float(value)
            elif kind == "ident" and value.lower() in ("null", "none"):
                value_out = None
            else:
                raise MlflowError(INVALID_PARAMETER_VALUE, f"expected a value after {op!r}, got {value!r}")
        clauses.append(Clause(family, key, op, value_out))
        if index < len(tokens):
            kind, word = take()
            if word != "and":
                raise MlflowError(
                    INVALID_PARAMETER_VALUE, f"clauses are joined by AND, got {word!r} (OR is not supported)"
                )
    return clauses


def _like(pattern: str, value: str, *, fold: bool) -> bool:
    regex = "".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern)
    return re.fullmatch(regex, value, flags=re.IGNORECASE | re.DOTALL if fold else re.DOTALL) is not None


def compare(actual: object, op: str, wanted: object) -> bool:
    if actual is None:
        return op == "!=" and wanted is not None or (op == "=" and wanted is None)
    if op in ("in", "not in"):
        values = [str(v) if not isinstance(actual, float) else v for v in wanted]  # type: ignore[union-attr]
        found = actual in values or str(actual) in [str(v) for v in wanted]  # type: ignore[union-attr]
        return found if op == "in" else not found
    if op in ("like", "ilike"):
        return _like(str(wanted), str(actual), fold=op == "ilike")
    if isinstance(wanted, float):
        try:
            actual = float(actual)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return False
        if math.isnan(actual):
            return False
    else:
        actual, wanted = str(actual), str(wanted)
    return {
        "=": actual == wanted,
        "!=": actual != wanted,
        "<": actual < wanted,  # type: ignore[operator]
        "<=": actual <= wanted,  # type: ignore[operator]
        ">": actual > wanted,  # type: ignore[operator]
        ">=": actual >= wanted,  # type: ignore[operator]
    }[op]


def matches(clauses: list[Clause], lookup: Callable[[str, str], object]) -> bool:
    return all(compare(lookup(c.family, c.key), c.op, c.value) for c in clauses)


def parse_order(items: list[str]) -> list[tuple[str, str, bool]]:
    """`metrics.acc DESC`, `attributes.start_time` ... as (family, key, descending)."""
    out = []
    for item in items:
        text = item.strip()
        descending = False
        lowered = text.lower()
        if lowered.endswith(" desc"):
            text, descending = text[:-5].strip(), True
        elif lowered.endswith(" asc"):
            text = text[:-4].strip()
        head, dot, rest = text.partition(".")
        if dot and head.lower() in FAMILIES:
            out.append((FAMILIES[head.lower()], _unquote(rest), descending))
        else:
            out.append(("attributes", _unquote(text), descending))
    return out


def sort_key(value: object) -> tuple:
    """Missing values last in either direction is MLflow's; here: None sorts after every value ascending."""
    if value is None:
        return (2, 0, "")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (0, float(value), "")
    return (1, 0, str(value))


def page(items: list, max_results: int, token: str) -> tuple[list, str]:
    """An offset page token: base64 of {"offset": n}."""
    offset = 0
    if token:
        try:
            offset = int(json.loads(base64.b64decode(token.encode()).decode())["offset"])
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            raise MlflowError(INVALID_PARAMETER_VALUE, "invalid page_token") from None
        if offset < 0:
            raise MlflowError(INVALID_PARAMETER_VALUE, "invalid page_token")
    chunk = items[offset : offset + max_results]
    following = offset + max_results
    next_token = base64.b64encode(json.dumps({"offset": following}).encode()).decode() if following < len(items) else ""
    return chunk, next_token
