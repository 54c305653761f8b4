"""The import rule between the apps: a module uses only the public names of another app (registry is the floor,
governance above it, llmops above both). An underscore name is a module's own business; what two apps share is
made public on the floor (registry.services.common, registry.svg, registry.lineage, ...)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("registry", "governance", "llmops", "interop")

KNOWN_OFFENDERS: set[tuple[str, str]] = set()  # none left; a new one is fixed, not listed


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _app_of(module: str) -> str | None:
    top = module.split(".", 1)[0]
    return top if top in APPS else None


def private_uses(path: Path, source: str) -> list[str]:
    """`module._name` for every private name of another app the module imports or reads as an attribute."""
    own = path.relative_to(ROOT).parts[0]
    tree = ast.parse(source, filename=str(path))
    aliases: dict[str, str] = {}  # local name -> the other app's module it is bound to
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _app_of(alias.name) not in (None, own):
                    if any(_private(part) for part in alias.name.split(".")):
                        found.append(alias.name)
                    if alias.asname:
                        aliases[alias.asname] = alias.name
                    else:
                        top = alias.name.split(".", 1)[0]
                        aliases.setdefault(top, top)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if _app_of(node.module) in (None, own):
                continue
            if any(_private(part) for part in node.module.split(".")):
                found.append(node.module)
            for alias in node.names:
                if _private(alias.name):
                    found.append(f"{node.module}.{alias.name}")
                else:
                    aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr):
            chain = _dotted(node.value)
            if chain is None:
                continue
            head, _, rest = chain.partition(".")
            target = ".".join(filter(None, (aliases.get(head), rest)))
            if head in aliases and _is_module(target):  # a module's attribute, not a class's (Model._meta)
                found.append(f"{target}.{node.attr}")
    return found


def _is_module(dotted: str) -> bool:
    path = ROOT.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _dotted(node: ast.expr) -> str | None:
    """`a.b.c` for a chain of attribute reads on a name, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return ".".join([node.id, *reversed(parts)])


def _app_files():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.relative_to(ROOT).parts:
                yield path


def test_no_module_imports_a_private_name_of_another_app():
    offences = {
        (str(path.relative_to(ROOT)), name)
        for path in _app_files()
        for name in private_uses(path, path.read_text(encoding="utf-8"))
    }
    assert sorted(offences - KNOWN_OFFENDERS) == []
    assert sorted(KNOWN_OFFENDERS - offences) == [], "an allowed offender is gone: remove it from KNOWN_OFFENDERS"


def test_the_checker_sees_each_form_of_private_use(tmp_path, monkeypatch):
    """The test above passes only if the checker can fail: each way of reaching a private name is caught, and a
    module's own private names, public names of other apps and a class's attributes (Django's `_meta`) are not."""
    source = "\n".join(
        [
            "import governance.charts",
            "import governance.lineage as gl",
            "from governance import charts",
            "from governance.services import _check_items, decisions_ingest",
            "from llmops._private import thing",
            "from registry.svg import Svg",
            "from governance.models import Decision",
            "from llmops.evaluators import base",
            "governance.charts._Svg()",
            "gl._node('run', 1, 'r', {})",
            "charts._text('x')",
            "base._helper",
            "Svg()._private",
            "decisions_ingest.__name__",
            "Decision._meta.db_table",
        ]
    )
    path = ROOT / "llmops" / "example.py"
    assert sorted(private_uses(path, source)) == sorted(
        [
            "governance.services._check_items",
            "governance.charts._Svg",
            "governance.lineage._node",
            "governance.charts._text",
        ]
    )
    assert private_uses(ROOT / "governance" / "example.py", "from governance.services import _x\nimport x\nx._y") == []
    assert private_uses(ROOT / "governance" / "example.py", "from llmops import charts\ncharts._document") == [
        "llmops.charts._document"
    ]


def test_rows_are_locked_only_through_registry_locks():
    """`select_for_update()` (FOR UPDATE) deadlocks against the foreign-key checks of a transaction that holds the
    audit chain head (registry/locks.py says how); every service locks through `for_update`."""
    offenders = [
        str(path.relative_to(ROOT))
        for app in APPS
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.parts
        and path != ROOT / "registry" / "locks.py"
        and ".select_for_update(" in path.read_text()
    ]
    assert not offenders
