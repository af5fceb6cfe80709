"""Every route needs jupyter_server's authentication, and a POST needs
the XSRF token when the browser authenticates by cookie."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from ckptviz.server.routes import ROUTES

EXPORT = {"path": "guide_legacy_adam/ckpt-4", "dest": "copy"}


def request_for(route: str) -> dict[str, Any]:
    if route == "export":
        return {"method": "POST", "body": json.dumps(EXPORT)}
    return {
        "method": "GET",
        "params": {"path": "guide_legacy_adam/ckpt-4", "key": "step/.ATTRIBUTES/VARIABLE_VALUE"},
    }


@pytest.mark.parametrize("route", sorted(ROUTES))
async def test_every_route_refuses_anonymous_requests(jp_fetch, root, route: str) -> None:
    with pytest.raises(HTTPClientError) as e:
        await jp_fetch("ckptviz", "api", route, headers={"Authorization": ""}, **request_for(route))
    assert e.value.code == 403
    assert not (root / "copy.index").exists()


@pytest.mark.parametrize("route", sorted(ROUTES))
async def test_every_route_refuses_a_wrong_token(jp_fetch, root, route: str) -> None:
    with pytest.raises(HTTPClientError) as e:
        await jp_fetch("ckptviz", "api", route, headers={"Authorization": "token nope"}, **request_for(route))
    assert e.value.code == 403


async def test_a_cookie_authenticated_post_needs_the_xsrf_token(
    jp_fetch, http_server_client, jp_base_url, jp_serverapp, root
) -> None:
    def cookies_of(response: Any) -> dict[str, str]:
        return dict(c.split(";", 1)[0].split("=", 1) for c in response.headers.get_list("Set-Cookie"))

    page = await http_server_client.fetch(f"{jp_base_url}login", raise_error=False)
    jar = cookies_of(page)
    xsrf = jar["_xsrf"]
    login = await http_server_client.fetch(
        f"{jp_base_url}login?next=%2F",
        method="POST",
        follow_redirects=False,
        raise_error=False,
        headers={"Cookie": f"_xsrf={xsrf}"},
        body=f"_xsrf={xsrf}&password={jp_serverapp.identity_provider.token}",
    )
    assert login.code == 302, login.body
    jar.update(cookies_of(login))
    cookies = "; ".join(f"{k}={v}" for k, v in jar.items())
    url = f"{jp_base_url}ckptviz/api/export"
    refused = await http_server_client.fetch(
        url, method="POST", body=json.dumps(EXPORT), headers={"Cookie": cookies}, raise_error=False
    )
    assert refused.code == 403 and "_xsrf" in refused.body.decode()
    assert not (root / "copy.index").exists()
    done = await http_server_client.fetch(
        url,
        method="POST",
        body=json.dumps(EXPORT),
        headers={"Cookie": cookies, "X-XSRFToken": xsrf},
        raise_error=False,
    )
    assert done.code == 201, done.body
    assert (root / "copy.index").exists()
