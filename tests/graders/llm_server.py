"""A scripted OpenAI-compatible chat-completions server for the LLM grader tests.

A real HTTP server (stdlib ``ThreadingHTTPServer``) on 127.0.0.1 and a free port, run in a
background thread. By default it behaves like a well-mannered judge: it reads the rubric
question at the end of the prompt and answers with the wire contract, a deterministic score
per (transcript block, dimension) from :func:`judge_score`. Tests steer it with:

* ``server.script(action, ...)`` -- actions served first-in first-out, one per request
  (status code, headers such as ``Retry-After``, raw content, finish_reason, delay);
* ``server.responder`` -- a function ``(body, default_answer) -> Action | None`` consulted
  for every request once the script is empty (None = the default answer);
* ``server.reject_formats`` -- response_format types answered with HTTP ``server.reject_status`` (400);
* ``server.requests`` -- every request received (headers and JSON body), for assertions.

All scores it produces are synthetic (hash-derived), not judgements of anything.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_BLOCK_RE = re.compile(r"<transcript>\n(.*)\n</transcript>", re.DOTALL)
_ONE_RE = re.compile(r"(?:dimension|grade only) `([a-z_]+)`")
_IDS_RE = re.compile(r"(?:in this order|dimension of the guide \()[: ]*([a-z_, ]+)")


@dataclass
class Action:
    """One scripted reply. ``content=None`` means the default judge answer."""

    status: int = 200
    content: str | None = None
    finish_reason: str = "stop"
    headers: dict = field(default_factory=dict)
    delay: float = 0.0
    raw_body: bytes | None = None  # send these bytes verbatim (malformed bodies)


def transcript_block(user_content: str) -> str:
    """The text between the first ``<transcript>`` line and the first ``</transcript>`` line."""
    m = re.search(r"<transcript>\n(.*?)\n</transcript>", user_content, re.DOTALL)
    return m.group(1) if m else ""


def judge_score(block: str, dimension: str, lo: int = 1, hi: int = 4) -> int:
    """Synthetic deterministic score of a transcript block on a dimension."""
    h = int(hashlib.sha256(f"{dimension}|{block}".encode()).hexdigest(), 16)
    return lo + h % (hi - lo + 1)


def asked_dimensions(user_content: str) -> tuple[list[str], bool]:
    """(dimension ids asked, per_dimension?) read from the question at the end of the prompt."""
    tail = user_content.rsplit("</transcript>", 1)[-1]
    m = _ONE_RE.search(tail)
    if m:
        return [m.group(1)], True
    m = _IDS_RE.search(tail)
    ids = [s.strip() for s in m.group(1).split(",") if s.strip()] if m else []
    return ids, False


def default_answer(body: dict) -> str:
    user = body["messages"][-1]["content"]
    block = transcript_block(user)
    dims, per_dim = asked_dimensions(user)
    items = [
        {
            "dimension": d,
            "score": judge_score(block, d),
            "rationale": f"synthetic rationale for {d}",
        }
        for d in dims
    ]
    if per_dim:
        return json.dumps(items[0])
    return json.dumps({"scores": items})


def _tokens(text: str) -> list[str]:
    # Digits are single tokens, as in most BPE vocabularies; the tokens tile the text.
    return re.findall(r"\d|\D+", text)


def default_logprobs(
    text: str, dist: Callable[[int], dict[int, float]] | None = None
) -> list[dict]:
    dist = dist or (lambda s: {s: 0.7, (s % 4) + 1: 0.2, ((s + 1) % 4) + 1: 0.1})
    out = []
    for tok in _tokens(text):
        if tok.isdigit():
            probs = dist(int(tok))
            top = [
                {"token": str(k), "logprob": math.log(v)}
                for k, v in sorted(probs.items(), key=lambda kv: -kv[1])
            ]
            out.append(
                {"token": tok, "logprob": math.log(probs.get(int(tok), 1e-9)), "top_logprobs": top}
            )
        else:
            out.append(
                {"token": tok, "logprob": 0.0, "top_logprobs": [{"token": tok, "logprob": 0.0}]}
            )
    return out


class ScriptedChatServer:
    """Start with :meth:`start` (or as a context manager); ``base_url`` ends in ``/v1``."""

    def __init__(self) -> None:
        self._script: deque[Action] = deque()
        self._lock = threading.Lock()
        self.requests: list[dict] = []
        self.responder: Callable[[dict, str], Action | None] | None = None
        self.reject_formats: set[str] = set()
        self.reject_status = 400  # llama-cpp-python's server answers an unsupported format with 500
        self.logprob_dist: Callable[[int], dict[int, float]] | None = None
        self.model = "scripted-judge"
        self.max_in_flight = 0
        self._in_flight = 0
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- control -----------------------------------------------------------------
    def script(self, *actions: Action) -> None:
        with self._lock:
            self._script.extend(actions)

    @property
    def n_requests(self) -> int:
        with self._lock:
            return len(self.requests)

    def start(self) -> ScriptedChatServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            wbufsize = 65536  # headers and body in one write: no Nagle/delayed-ACK stalls
            disable_nagle_algorithm = True

            def log_message(self, *args) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw)
                except ValueError:
                    return self._send(400, b'{"error": {"message": "body is not JSON"}}')
                with server._lock:
                    server.requests.append(
                        {
                            "path": self.path,
                            "headers": dict(self.headers),
                            "body": body,
                            "t": time.monotonic(),
                        }
                    )
                    action = server._script.popleft() if server._script else None
                    server._in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server._in_flight)
                try:
                    self._answer(body, action)
                finally:
                    with server._lock:
                        server._in_flight -= 1

            def _answer(self, body: dict, action: Action | None) -> None:
                if not self.path.endswith("/chat/completions"):
                    return self._send(404, b'{"error": {"message": "not found"}}')
                fmt = (body.get("response_format") or {}).get("type")
                if fmt in server.reject_formats:
                    msg = {"error": {"message": f"response_format {fmt} is not supported"}}
                    return self._send(server.reject_status, json.dumps(msg).encode())
                answer = default_answer(body)
                if action is None and server.responder is not None:
                    action = server.responder(body, answer)
                action = action or Action()
                if action.delay:
                    time.sleep(action.delay)
                if action.raw_body is not None:
                    return self._send(action.status, action.raw_body, action.headers)
                if action.status != 200:
                    err = {"error": {"message": f"scripted {action.status}"}}
                    return self._send(action.status, json.dumps(err).encode(), action.headers)
                content = answer if action.content is None else action.content
                choice = {"index": 0, "message": {"role": "assistant", "content": content},
                          "finish_reason": action.finish_reason}  # fmt: skip
                if body.get("logprobs"):
                    choice["logprobs"] = {"content": default_logprobs(content, server.logprob_dist)}
                payload = {
                    "id": "chatcmpl-test", "object": "chat.completion", "model": body.get("model"),
                    "choices": [choice],
                    "usage": {"prompt_tokens": len(json.dumps(body["messages"])) // 4,
                              "completion_tokens": max(1, len(content) // 4)},
                }  # fmt: skip
                self._send(200, json.dumps(payload).encode(), action.headers)

            def _send(self, status: int, data: bytes, headers: dict | None = None) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in (headers or {}).items():
                        self.send_header(k, str(v))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # client gave up (timeout test)
                    pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="scripted-chat-server", daemon=True
        )
        self._thread.start()
        return self

    @property
    def base_url(self) -> str:
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> ScriptedChatServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
