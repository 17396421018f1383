"""The counsellor desk's integration API, as the tests (and an integration) call it."""
from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
from typing import Any, Dict, Optional, Tuple

from tests.support.chat import Stack


def desk_call(stack: Stack, method: str, path: str, body: Optional[Any] = None, timeout: float = 20) -> Tuple[int, Any]:
    """(HTTP status, JSON answer), refusals included."""
    request = urllib.request.Request(
        f"{stack.desk_url}{path}", method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {stack.desk_token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def desk(stack: Stack, method: str, path: str, body: Optional[Any] = None) -> Any:
    """The JSON answer of a call that must succeed."""
    status, answer = desk_call(stack, method, path, body)
    assert status < 400, f"desk {method} {path}: HTTP {status} {answer}"
    return answer


def find_case(stack: Stack, conversation_id: str, **expected: Any) -> Tuple[Optional[Dict[str, Any]], Optional[Dict[str, Any]]]:
    """(the conversation's case if it has the expected fields, the case as last seen)."""
    for case in desk(stack, "GET", "/api/cases")["cases"]:
        if case["conversation_id"] == conversation_id:
            return (case if all(case.get(k) == v for k, v in expected.items()) else None), case
    return None, None


def wait_case(stack: Stack, conversation_id: str, timeout: float = 5.0, **expected: Any) -> Dict[str, Any]:
    """The case once it has the expected fields (its context is read from Rasa just after it opens)."""
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        case, last = find_case(stack, conversation_id, **expected)
        if case is not None:
            return case
        time.sleep(0.1)
    raise AssertionError(f"case for {conversation_id} not as expected {expected}: {last}")


async def await_case(stack: Stack, conversation_id: str, timeout: float = 2.0, **expected: Any) -> Dict[str, Any]:
    """`wait_case` for asyncio tests: waits without blocking the loop (a socket.io client may run on it)."""
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        case, last = await asyncio.to_thread(find_case, stack, conversation_id, **expected)
        if case is not None:
            return case
        await asyncio.sleep(0.1)
    raise AssertionError(f"case for {conversation_id} not as expected {expected}: {last}")
