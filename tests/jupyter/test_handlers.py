"""The server extension's handlers under a real jupyter_server (pytest-jupyter), forwarding to a live
service: every route refuses unauthenticated requests, the API key never shows, only allow-listed paths
are forwarded, and the upstream URL comes only from the server's configuration.
"""

from __future__ import annotations

import asyncio
import json
import socket

import pytest
from django.db import connection
from governance_jupyter.handlers import ALLOWED_PATHS, Governance, path_allowed
from tornado.httpclient import HTTPClientError

from registry.models import Run

ROUTES = [
    ("governance", "status"),
    ("governance", "api", "whoami/"),
    ("governance", "api", "runs/"),
    ("governance", "api", "model-versions/1/gate/"),
    ("governance", "api", "not-allowed/"),
]


def governance(jp_serverapp) -> Governance:
    return jp_serverapp.web_app.settings["governance_config"]


@pytest.fixture
def configured(jp_serverapp, live_server, raw_key):
    """The extension pointed at the live service through its traitlets (c.Governance.*)."""
    config = governance(jp_serverapp)
    config.service_url = live_server.url
    config.api_key = raw_key
    return config


@pytest.fixture
def bodies():
    """Every response body a test saw, to check that the key is in none of them."""
    return []


async def fetch_json(jp_fetch, bodies, *parts, expect=200, **kwargs):
    try:
        response = await jp_fetch(*parts, **kwargs)
        code, raw = response.code, response.body
    except HTTPClientError as exc:
        code, raw = exc.code, exc.response.body if exc.response is not None else b""
    text = raw.decode()
    bodies.append(text)
    assert code == expect, text
    return json.loads(text) if text else None


def assert_key_hidden(key: str, bodies: list[str], caplog, jp_logging_stream) -> None:
    secret = key.split("_", 2)[2]
    for text in [*bodies, caplog.text, jp_logging_stream.getvalue()]:
        assert key not in text
        assert secret not in text


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- authentication -------------------------------------------------------------------------------


@pytest.mark.parametrize("parts", ROUTES)
async def test_every_route_refuses_unauthenticated_requests(jp_fetch, configured, parts):
    for headers in ({"Authorization": ""}, {"Authorization": "token wrong-token"}):
        with pytest.raises(HTTPClientError) as info:
            await jp_fetch(*parts, headers=headers)
        assert info.value.code == 403
        assert configured.api_key not in (info.value.response.body or b"").decode()


def test_every_handler_method_is_authenticated():
    """Every verb method of every handler is wrapped by tornado.web.authenticated."""
    import tornado.web
    from governance_jupyter import handlers

    wrapper_code = tornado.web.authenticated(lambda self: None).__code__
    checked = 0
    for cls in (handlers.StatusHandler, handlers.ProxyHandler):
        for verb in ("get", "post", "put", "patch", "delete", "head", "options"):
            method = cls.__dict__.get(verb)
            if method is not None:
                assert method.__code__ is wrapper_code, f"{cls.__name__}.{verb} is not @tornado.web.authenticated"
                checked += 1
    assert checked == 3


# -- status ---------------------------------------------------------------------------------------


async def test_traitlets_config_is_loaded(jp_serverapp):
    assert governance(jp_serverapp).timeout == 5.0  # from jp_server_config's Governance section


async def test_status_not_configured(jp_fetch, bodies):
    body = await fetch_json(jp_fetch, bodies, "governance", "status")
    assert body["connected"] is False
    assert body["message"].startswith("not configured: set c.Governance.service_url")
    assert set(body) == {"connected", "service_url", "message", "whoami", "project", "role"}


async def test_status_connected(jp_fetch, configured, live_server, raw_key, bodies, caplog, jp_logging_stream):
    body = await fetch_json(jp_fetch, bodies, "governance", "status")
    assert body == {
        "connected": True,
        "service_url": live_server.url,
        "message": f"connected to {live_server.url} as data_scientist of project acme",
        "whoami": {
            "kind": "api_key",
            "name": raw_key.split("_")[1],
            "is_superuser": False,
            "memberships": [{"project": "acme", "project_name": "Acme Bank", "role": "data_scientist"}],
        },
        "project": "acme",
        "role": "data_scientist",
    }
    assert_key_hidden(raw_key, bodies, caplog, jp_logging_stream)


async def test_status_from_environment(jp_fetch, live_server, raw_key, monkeypatch, tmp_path, bodies):
    key_file = tmp_path / "key"
    key_file.write_text(raw_key)
    monkeypatch.setenv("GOVERNANCE_URL", live_server.url)
    monkeypatch.setenv("GOVERNANCE_API_KEY_FILE", str(key_file))
    body = await fetch_json(jp_fetch, bodies, "governance", "status")
    assert body["connected"] is True and body["project"] == "acme"


async def test_status_unreachable(jp_fetch, jp_serverapp, bodies, caplog, jp_logging_stream):
    config = governance(jp_serverapp)
    config.service_url = f"http://127.0.0.1:{free_port()}"
    config.api_key = "gk_abcdef_unreachable-secret"
    body = await fetch_json(jp_fetch, bodies, "governance", "status")
    assert body["connected"] is False
    assert body["message"].startswith(f"cannot reach the governance service at {config.service_url}")
    assert_key_hidden(config.api_key, bodies, caplog, jp_logging_stream)


async def test_status_key_refused(jp_fetch, jp_serverapp, live_server, db, bodies, caplog, jp_logging_stream):
    config = governance(jp_serverapp)
    config.service_url = live_server.url
    config.api_key = "gk_abcdef_refused-secret"
    body = await fetch_json(jp_fetch, bodies, "governance", "status")
    assert body["connected"] is False
    assert body["message"] == (
        f"the governance service at {live_server.url} refused the API key (HTTP 401): invalid or revoked API key"
    )
    assert_key_hidden(config.api_key, bodies, caplog, jp_logging_stream)


# -- forwarding -----------------------------------------------------------------------------------


async def test_forwards_allow_listed_gets(jp_fetch, configured, project, raw_key, bodies, caplog, jp_logging_stream):
    def make_runs():  # the ORM refuses to run inside the event loop: a worker thread, closing its connection
        try:
            for name in ("first", "second"):
                Run.objects.create(project=project, name=name, notebook_path=f"{name}.ipynb")
            return Run.objects.get(name="second").pk
        finally:
            connection.close()

    run_id = await asyncio.to_thread(make_runs)
    me = await fetch_json(jp_fetch, bodies, "governance", "api", "whoami/")
    assert me["memberships"][0]["role"] == "data_scientist"
    listed = await fetch_json(jp_fetch, bodies, "governance", "api", "runs/", params={"name": "second"})
    assert [r["id"] for r in listed["results"]] == [run_id]  # the query string is forwarded
    one = await fetch_json(jp_fetch, bodies, "governance", "api", f"runs/{run_id}/")
    assert one["notebook_path"] == "second.ipynb"
    # upstream errors pass through with their status and the service's error body
    missing = await fetch_json(jp_fetch, bodies, "governance", "api", "runs/999999/", expect=404)
    assert missing["error"]["code"] == "not_found"
    # a parameter cannot choose the upstream: it is only forwarded as a query parameter
    refused = await fetch_json(
        jp_fetch, bodies, "governance", "api", "projects/", params={"url": "http://evil.invalid/"}, expect=400
    )
    assert list(refused["error"]["fields"]) == ["url"]  # the service itself refused the unknown parameter
    # JupyterLab's cache-busting `?<milliseconds>` is dropped, not forwarded
    assert await fetch_json(jp_fetch, bodies, "governance", "api", f"runs/{run_id}/", params={"1796223896451": ""})
    assert_key_hidden(raw_key, bodies, caplog, jp_logging_stream)


@pytest.mark.parametrize(
    "path",
    [
        "audit-events/",
        "decisions/",
        "erasure-requests/",
        "whoami",
        "runs/abc/",
        "runs/1/../../audit-events/",
        "runs/..%2F..%2Fadmin/",
        "..%2F..%2Fadmin/",
        "%2E%2E/admin/",
        "http://evil.invalid/api/v1/whoami/",
        "http:%2F%2Fevil.invalid/",
        "//evil.invalid/api/v1/whoami/",
        "%2F%2Fevil.invalid/api/v1/whoami/",
        "@evil.invalid/whoami/",
        "runs/%0d%0aHost:evil/",
        "",
    ],
)
async def test_refuses_paths_off_the_allow_list(http_server_client, jp_auth_header, jp_base_url, configured, path):
    url = jp_base_url.rstrip("/") + "/governance/api/" + path
    with pytest.raises(HTTPClientError) as info:
        await http_server_client.fetch(url, headers=jp_auth_header, request_timeout=10)
    assert info.value.code == 404
    text = info.value.response.body.decode()
    assert '"kind"' not in text and '"results"' not in text  # nothing came back from the service
    assert configured.api_key not in text


def test_allow_list_regexes():
    assert path_allowed("model-versions/12/gate/") and path_allowed("llm/prompts/")
    assert not path_allowed("model-versions/12/transition/")
    assert not path_allowed("model-versions/12/gate/x")
    assert len(ALLOWED_PATHS) == 16
    # the one write: a version's card
    assert path_allowed("model-versions/12/", "PATCH")
    assert not path_allowed("model-versions/", "PATCH")
    assert not path_allowed("runs/12/", "PATCH")
    assert not path_allowed("model-versions/12/transition/", "PATCH")
    assert not path_allowed("model-versions/12/", "POST")


def _version(project):
    from tests import factories as f

    try:
        return f.ModelVersionFactory(model__project=project).pk
    finally:
        connection.close()


async def test_forwards_the_model_card_patch(jp_fetch, configured, project, raw_key, bodies, caplog, jp_logging_stream):
    version_id = await asyncio.to_thread(_version, project)
    card = {"intended_use": "loan pre-screening", "limitations": "adults only"}
    body = await fetch_json(
        jp_fetch, bodies, "governance", "api", f"model-versions/{version_id}/", method="PATCH", body=json.dumps(card)
    )
    assert (body["intended_use"], body["limitations"]) == ("loan pre-screening", "adults only")
    # the service's refusals pass through with its error body: a field that is not the card's
    refused = await fetch_json(
        jp_fetch,
        bodies,
        "governance",
        "api",
        f"model-versions/{version_id}/",
        method="PATCH",
        body=json.dumps({"stage": "production"}),
        expect=400,
    )
    assert list(refused["error"]["fields"]) == ["stage"]
    assert_key_hidden(raw_key, bodies, caplog, jp_logging_stream)


@pytest.mark.parametrize("path", ["runs/1/", "model-versions/", "model-versions/1/transition/", "projects/acme/"])
async def test_refuses_patches_off_the_card(jp_fetch, configured, bodies, path):
    refused = await fetch_json(
        jp_fetch, bodies, "governance", "api", path, method="PATCH", body=json.dumps({"name": "x"}), expect=404
    )
    assert refused["error"]["code"] == "not_found"


async def test_refuses_a_patch_that_is_not_a_json_object(jp_fetch, configured, bodies):
    await fetch_json(jp_fetch, bodies, "governance", "api", "model-versions/1/", method="PATCH", body="[1]", expect=400)


async def test_post_is_not_forwarded(jp_fetch, configured, bodies):
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch("governance", "api", "model-versions/1/transition/", method="POST", body="{}")
    assert info.value.code == 405


async def test_unreachable_upstream_is_a_502(jp_fetch, jp_serverapp, bodies, caplog, jp_logging_stream):
    config = governance(jp_serverapp)
    config.service_url = f"http://127.0.0.1:{free_port()}"
    config.api_key = "gk_abcdef_proxy-secret"
    body = await fetch_json(jp_fetch, bodies, "governance", "api", "runs/", expect=502)
    assert body["error"]["code"] == "upstream_unreachable"
    assert body["message"].startswith(f"cannot reach the governance service at {config.service_url}")
    assert_key_hidden(config.api_key, bodies, caplog, jp_logging_stream)


async def test_not_configured_proxy_is_a_503(jp_fetch, bodies):
    body = await fetch_json(jp_fetch, bodies, "governance", "api", "runs/", expect=503)
    assert body["error"]["code"] == "not_configured"
