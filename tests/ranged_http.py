"""HTTP Range replies for the test servers that stand in for object stores."""

from __future__ import annotations

import http.server
from pathlib import Path


def send_range(handler: http.server.BaseHTTPRequestHandler, path: str) -> bytes:
    """Send the status and headers for the bytes of ``path`` the request's Range asks for (all
    of them without one) and return that body, not yet written."""
    data = Path(path).read_bytes()
    start, end = 0, len(data) - 1
    header = handler.headers.get("Range")
    if header:
        a, b = header.removeprefix("bytes=").split("-")
        start, end = int(a), min(int(b) if b else len(data) - 1, len(data) - 1)
    body = data[start : end + 1]
    handler.send_response(206 if header else 200)
    if header:
        handler.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
    handler.send_header("Content-Length", str(len(body)))
    handler.send_header("Accept-Ranges", "bytes")
    handler.end_headers()
    return body
