"""The registry API's JSON error bodies (`{"errors": [{"code", "message"}]}`) as text."""

from __future__ import annotations

import json


def registry_errors(body: bytes) -> str:
    """`CODE: message; …` from an error body, or '' when it has none."""
    try:
        data = json.loads(body)
    except ValueError:
        return ""
    errors = data.get("errors") if isinstance(data, dict) else None
    if not isinstance(errors, list):
        return ""
    parts = []
    for e in errors[:3]:
        if isinstance(e, dict):
            code, message = e.get("code", ""), e.get("message", "")
            parts.append(f"{code}: {message}" if code and message else str(code or message))
    return "; ".join(p for p in parts if p)


def error_codes(body: bytes) -> set[str]:
    try:
        data = json.loads(body)
        return {str(e.get("code")) for e in data.get("errors", []) if isinstance(e, dict)}
    except (ValueError, AttributeError):
        return set()
