"""Every route asks jupyter_server's authorizer (the ``contents`` resource)."""

from __future__ import annotations

from typing import Any

import pytest
from jupyter_server.auth import Authorizer
from tornado.httpclient import HTTPClientError

from ckptviz.server.routes import ROUTES

from .test_auth import request_for


class NoContents(Authorizer):
    """Denies every action on files, as a deployment's authorizer might."""

    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        return resource != "contents"


@pytest.fixture
def jp_server_config() -> dict[str, Any]:
    return {"ServerApp": {"jpserver_extensions": {"ckptviz": True}, "authorizer_class": NoContents}}


@pytest.mark.parametrize("route", sorted(ROUTES))
async def test_every_route_asks_the_authorizer(jp_fetch, root, route: str) -> None:
    with pytest.raises(HTTPClientError) as e:
        await jp_fetch("ckptviz", "api", route, **request_for(route))
    assert e.value.code == 403
    assert not (root / "copy.index").exists()
