"""After `pip install ./jupyter_ext` (make setup), Jupyter lists both halves of the extension as enabled."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import governance_jupyter

PREFIX = Path(sys.prefix)
JUPYTER = Path(sys.executable).with_name("jupyter")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def jupyter(*args: str) -> str:
    env = {**os.environ, "NO_COLOR": "1"}
    done = subprocess.run([str(JUPYTER), *args], capture_output=True, text=True, timeout=120, env=env, check=True)
    return ANSI.sub("", done.stdout + done.stderr)


def test_the_wheel_installed_the_labextension_and_the_server_config():
    labext = PREFIX / "share" / "jupyter" / "labextensions" / "governance-jupyter"
    assert json.loads((labext / "package.json").read_text())["name"] == "governance-jupyter"
    assert json.loads((labext / "install.json").read_text())["packageManager"] == "python"
    assert list((labext / "static").glob("remoteEntry.*.js"))
    config = PREFIX / "etc" / "jupyter" / "jupyter_server_config.d" / "governance_jupyter.json"
    assert json.loads(config.read_text()) == {"ServerApp": {"jpserver_extensions": {"governance_jupyter": True}}}
    assert governance_jupyter._jupyter_labextension_paths() == [{"src": "labextension", "dest": "governance-jupyter"}]


def test_jupyter_lists_both_extensions_enabled_and_ok():
    version = governance_jupyter.__version__
    labextensions = jupyter("labextension", "list")
    assert re.search(rf"governance-jupyter v{re.escape(version)} enabled\s+OK", labextensions), labextensions
    servers = jupyter("server", "extension", "list")
    assert re.search(r"governance_jupyter enabled", servers), servers
    assert re.search(rf"governance_jupyter {re.escape(version)} OK", servers), servers
