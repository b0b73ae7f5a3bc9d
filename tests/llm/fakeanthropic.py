"""A fake Anthropic Messages API on loopback, scripted answer by answer, recording each request.

Used through the real SDK (its base URL pointed here) by the tests of the AI reviewer, the
command line and the App.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: Looks like a real key, so a leak would be recognisable anywhere.
API_KEY = "sk-ant-test-Zq8vWm3LpR7tKx2N-never-show-me"


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


class FakeAnthropic:
    def __init__(self) -> None:
        self.requests: list[Request] = []
        self._answers: deque[Answer] = deque()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeAnthropic:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def answer(self, status: int = 200, *, body: object, delay: float = 0.0) -> None:
        """Queue the next answer: ``body`` as JSON, or as raw bytes when it is ``bytes``."""
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        # x-should-retry is left to the SDK's own rules, as the real API does.
        self._answers.append(Answer(status=status, body=raw, delay=delay))

    def tool_answer(
        self,
        findings: object,
        *,
        stop_reason: str = "tool_use",
        usage: dict[str, int] | None = None,
        delay: float = 0.0,
    ) -> None:
        body = _message([_tool_use(findings, name="report_findings")], stop_reason=stop_reason)
        if usage is not None:
            body["usage"] = usage
        self.answer(body=body, delay=delay)

    def sent_text(self) -> str:
        """Everything every request carried, as one text (to look for leaks)."""
        return "\n".join(json.dumps(r.body, ensure_ascii=False) for r in self.requests)

    @staticmethod
    def tool_use(findings: object, *, name: str = "report_findings") -> dict[str, object]:
        return _tool_use(findings, name=name)

    @staticmethod
    def message(
        content: list[dict[str, object]], *, stop_reason: str = "tool_use"
    ) -> dict[str, object]:
        return _message(content, stop_reason=stop_reason)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                fake.requests.append(
                    Request(
                        path=self.path,
                        headers={k.lower(): v for k, v in self.headers.items()},
                        body=body,
                    )
                )
                answer = (
                    fake._answers.popleft()
                    if fake._answers
                    else Answer(status=599, body=b'{"error": "no answer scripted"}')
                )
                if answer.delay:
                    time.sleep(answer.delay)
                try:
                    self.send_response(answer.status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(answer.body)))
                    self.end_headers()
                    self.wfile.write(answer.body)
                except OSError:
                    pass  # the client gave up waiting (timeout tests)

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler


def finding(
    path: str,
    line: int,
    *,
    end_line: int | None = None,
    title: str = "A problem",
    why: str = "It matters.",
    fix: str = "Fix it.",
    confidence: float = 0.9,
) -> dict[str, object]:
    """One finding in the answer tool's shape."""
    return {
        "path": path,
        "line": line,
        "end_line": end_line if end_line is not None else line,
        "title": title,
        "why": why,
        "fix": fix,
        "confidence": confidence,
    }


def _tool_use(findings: object, *, name: str) -> dict[str, object]:
    return {"type": "tool_use", "id": "toolu_01", "name": name, "input": {"findings": findings}}


def _message(content: list[dict[str, object]], *, stop_reason: str) -> dict[str, object]:
    return {
        "id": "msg_01",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-5-5",
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": 100, "output_tokens": 20},
    }
