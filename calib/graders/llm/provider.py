"""The one-method provider interface and an OpenAI-compatible chat-completions provider.

A provider turns one :class:`ChatRequest` into one :class:`ChatResponse` with a single
``async def complete(request)`` call and nothing else: no retries, no caching, no parsing
(those live in :mod:`calib.graders.llm.retry`, :mod:`~calib.graders.llm.cache` and
:mod:`~calib.graders.llm.parse`), so any engine -- a hosted API, vLLM, a llama.cpp server,
Ollama, LM Studio, or an in-process model -- only has to implement that one method.

The API key is read from a named environment variable when the provider is built and is
only ever placed in the ``Authorization`` header: it is not part of any config, cache key,
cache value, log record, ``repr`` or exception message.
"""

from __future__ import annotations

import abc
import asyncio
import email.utils
import os
import re
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from calib.errors import GraderError
from calib.graders.llm.parse import cap_answer

__all__ = [
    "ChatRequest",
    "ChatResponse",
    "Provider",
    "ProviderError",
    "OpenAICompatibleProvider",
    "normalise_base_url",
    "mask_secret",
]


@dataclass(frozen=True)
class ChatRequest:
    """One chat-completions request, independent of the wire format.

    Parameters
    ----------
    model : str
        Model name as the endpoint knows it.
    messages : tuple of dict
        ``({"role": "system"|"user"|"assistant", "content": str}, ...)``.
    params : dict
        Sampling and output parameters sent as-is (``temperature``, ``max_tokens``,
        ``seed``, ``top_p``, ``logprobs``, ``top_logprobs``...).
    response_format : dict or None
        The OpenAI ``response_format`` object (``{"type": "json_schema", ...}``,
        ``{"type": "json_object"}``) or None for plain text.

    Examples
    --------
    >>> r = ChatRequest("m", ({"role": "user", "content": "hi"},), {"temperature": 0})
    >>> r.body()["messages"][0]["content"]
    'hi'
    """

    model: str
    messages: tuple[dict, ...]
    params: dict = field(default_factory=dict)
    response_format: dict | None = None

    def body(self) -> dict:
        """The JSON body of ``POST /chat/completions``."""
        body: dict[str, Any] = {"model": self.model, "messages": [dict(m) for m in self.messages]}
        body.update(self.params)
        if self.response_format is not None:
            body["response_format"] = self.response_format
        return body


@dataclass(frozen=True)
class ChatResponse:
    """What a provider returns for one request (JSON-serialisable, so it can be cached).

    ``logprobs`` is the OpenAI ``choices[0].logprobs.content`` list (each item
    ``{"token", "logprob", "top_logprobs": [{"token", "logprob"}, ...]}``) or None.

    Examples
    --------
    >>> r = ChatResponse.from_openai({"choices": [{"message": {"content": "{}"}, "finish_reason": "stop"}],
    ...                               "usage": {"prompt_tokens": 12, "completion_tokens": 1}})
    >>> r.finish_reason, r.prompt_tokens, ChatResponse.from_dict(r.to_dict()) == r
    ('stop', 12, True)
    """

    text: str
    finish_reason: str | None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    logprobs: list | None = None
    model: str | None = None
    latency_s: float | None = None

    def __post_init__(self) -> None:
        # Hostile or runaway answers: never keep (cache, store) more than MAX_ANSWER_CHARS of
        # text, nor the per-token log-probabilities of a cut answer. A cut answer is longer
        # than the limit, so the parser marks it unscored ("too long") on every path.
        text = (
            self.text
            if isinstance(self.text, str)
            else ("" if self.text is None else str(self.text))
        )
        capped = cap_answer(text)
        object.__setattr__(self, "text", capped)
        if capped is not text or not isinstance(self.logprobs, (list, type(None))):
            object.__setattr__(self, "logprobs", None)
        if self.finish_reason is not None and not isinstance(self.finish_reason, str):
            object.__setattr__(self, "finish_reason", str(self.finish_reason))
        for name in ("prompt_tokens", "completion_tokens"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int)):
                object.__setattr__(self, name, None)
        if self.latency_s is not None and not isinstance(self.latency_s, (int, float)):
            object.__setattr__(self, "latency_s", None)

    def to_dict(self) -> dict:
        """Plain dict for the JSON cache."""
        return {
            "text": self.text,
            "finish_reason": self.finish_reason,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "logprobs": self.logprobs,
            "model": self.model,
            "latency_s": self.latency_s,
        }

    @classmethod
    def from_dict(cls, d: dict) -> ChatResponse:
        """Inverse of :meth:`to_dict` (unknown keys ignored)."""
        if not isinstance(d, dict):
            raise ValueError(f"cached response is a {type(d).__name__}, not an object")
        values = {k: d.get(k) for k in cls.__dataclass_fields__}
        values["text"] = values["text"] or ""
        return cls(**values)

    @classmethod
    def from_openai(cls, payload: dict, latency_s: float | None = None) -> ChatResponse:
        """Build from an OpenAI chat-completions JSON body (``choices[0]``).

        Raises
        ------
        ProviderError
            When the body has no ``choices[0].message`` (not retried: the endpoint answered).
        """
        try:
            choice = payload["choices"][0]
            message = choice.get("message") or {}
            content = message.get("content")
        except (KeyError, IndexError, TypeError, AttributeError):
            raise ProviderError(
                "response has no choices[0].message (not a chat-completions answer)",
                retryable=False,
            ) from None
        usage = payload.get("usage") if isinstance(payload.get("usage"), dict) else {}
        lp = choice.get("logprobs")
        content_lp = lp.get("content") if isinstance(lp, dict) else None
        model = payload.get("model")
        return cls(
            text=content if isinstance(content, str) else "",
            finish_reason=choice.get("finish_reason"),
            prompt_tokens=usage.get("prompt_tokens"),
            completion_tokens=usage.get("completion_tokens"),
            logprobs=content_lp,
            model=model if isinstance(model, str) else None,
            latency_s=latency_s,
        )


class ProviderError(GraderError):
    """A provider call failed.

    Parameters
    ----------
    message : str
        What happened (never contains the API key or request headers).
    status : int, optional
        HTTP status, when there was one.
    retryable : bool
        429, 5xx, timeouts and connection errors are retryable; other 4xx are not.
    retry_after : float, optional
        Seconds the server asked us to wait (``Retry-After``).

    Examples
    --------
    >>> e = ProviderError("HTTP 429: slow down", status=429, retryable=True, retry_after=2.0)
    >>> e.retryable, e.retry_after
    (True, 2.0)
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retryable: bool = False,
        retry_after: float | None = None,
        kind: str = "error",
    ):
        super().__init__(message)
        self.status = status
        self.retryable = retryable
        self.retry_after = retry_after
        self.kind = kind


class Provider(abc.ABC):
    """One method: ``await provider.complete(request) -> ChatResponse``.

    ``endpoint`` identifies where answers come from (part of the cache key and of the grader
    configuration); it must never contain credentials.

    Examples
    --------
    >>> import asyncio
    >>> class Echo(Provider):
    ...     endpoint = "echo://"
    ...     async def complete(self, request):
    ...         return ChatResponse(text=request.messages[-1]["content"], finish_reason="stop")
    >>> asyncio.run(Echo().complete(ChatRequest("m", ({"role": "user", "content": "4"},)))).text
    '4'
    """

    endpoint: str = ""

    @abc.abstractmethod
    async def complete(self, request: ChatRequest) -> ChatResponse:
        """Send one request, return one response or raise :class:`ProviderError`."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release connections (default: nothing to release)."""


def normalise_base_url(url: str) -> str:
    """Strip credentials, query, fragment and trailing slash from an endpoint URL.

    The result is safe to store in configs and cache keys.

    Examples
    --------
    >>> normalise_base_url("http://user:secret@localhost:8000/v1/?key=x")
    'http://localhost:8000/v1'
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise GraderError(
            f"--base-url: expected an http(s) URL such as http://127.0.0.1:8000/v1, got {url!r}"
        )
    host = parts.hostname
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))


#: Error bodies are masked on at most this many characters (then cut for the message).
_MASK_WINDOW = 65_536
_BEARER_RE = re.compile(r"(?i)\bBearer\s+[^\s\"',;}\]]+")


def mask_secret(text: str, secret: str | None, *, limit: int | None = None,
                min_fragment: int = 8) -> str:  # fmt: skip
    """Mask an API key in ``text`` FIRST, then cut to ``limit`` characters.

    Masked: every ``Bearer <token>``, and every run of characters covered by a substring of
    ``secret`` of ``min_fragment`` (8) or more characters -- so a key cut in half by an error
    body's truncation, or echoed in pieces, is masked too (a key shorter than 8 characters is
    masked where it appears whole). Masking before truncating means the cut can never split
    the key into a prefix that escapes the mask.

    Examples
    --------
    >>> key = "sk-live-0123456789abcdef"
    >>> mask_secret("echo " + key[:12] + " and Authorization: Bearer " + key, key)
    'echo *** and Authorization: Bearer ***'
    >>> mask_secret("x" * 10 + key, key, limit=14)
    'xxxxxxxxxx***'
    """
    text = str(text)[:_MASK_WINDOW]
    text = _BEARER_RE.sub("Bearer ***", text)
    if secret:
        if len(secret) < min_fragment:
            text = text.replace(secret, "***")
        else:
            grams = {secret[i : i + min_fragment] for i in range(len(secret) - min_fragment + 1)}
            covered = bytearray(len(text))
            for i in range(len(text) - min_fragment + 1):
                if text[i : i + min_fragment] in grams:
                    covered[i : i + min_fragment] = b"\x01" * min_fragment
            if any(covered):
                out, i = [], 0
                while i < len(text):
                    if covered[i]:
                        while i < len(text) and covered[i]:
                            i += 1
                        out.append("***")
                    else:
                        out.append(text[i])
                        i += 1
                text = "".join(out)
    if limit is not None and len(text) > limit:
        text = text[:limit]
    return text


def _parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` as seconds: delta-seconds or an HTTP date (RFC 9110 section 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class OpenAICompatibleProvider(Provider):
    """Provider for any OpenAI-compatible ``/chat/completions`` endpoint, over httpx.

    Parameters
    ----------
    base_url : str
        E.g. ``https://api.openai.com/v1``, ``http://127.0.0.1:8000/v1`` (vLLM, llama.cpp
        server), ``http://127.0.0.1:11434/v1`` (Ollama), ``http://127.0.0.1:1234/v1``
        (LM Studio). ``/chat/completions`` is appended.
    api_key_env : str, optional
        Name of the environment variable holding the API key (the key itself is never
        accepted as an argument, so it cannot end up in a config file or shell history).
        None for local servers without authentication.
    timeout_s : float
        Per-request timeout (connect, read, write, pool).
    max_connections : int
        Connection-pool size; the runner's per-endpoint semaphore limits concurrency.

    Raises
    ------
    GraderError
        When ``api_key_env`` names a variable that is not set.

    Examples
    --------
    >>> p = OpenAICompatibleProvider("http://127.0.0.1:8000/v1")
    >>> p.endpoint
    'http://127.0.0.1:8000/v1'
    """

    def __init__(
        self,
        base_url: str,
        *,
        api_key_env: str | None = None,
        timeout_s: float = 60.0,
        max_connections: int = 16,
    ):
        self.endpoint = normalise_base_url(base_url)
        self._url = self.endpoint + "/chat/completions"
        self.api_key_env = api_key_env
        self._api_key: str | None = None
        if api_key_env:
            key = os.environ.get(api_key_env)
            if not key:
                raise GraderError(
                    f"--api-key-env: environment variable {api_key_env!r} is not set or empty"
                )
            self._api_key = key
        self.timeout_s = float(timeout_s)
        self.max_connections = int(max_connections)
        self._client = None

    def __repr__(self) -> str:  # never show the key
        return f"OpenAICompatibleProvider({self.endpoint!r}, api_key_env={self.api_key_env!r})"

    def _redact(self, text: str, limit: int | None = None) -> str:
        # A misbehaving proxy may echo request headers in an error body: never pass the key
        # on, not even a piece of it. Mask first, then cut (see mask_secret).
        return mask_secret(text, self._api_key, limit=limit)

    def _get_client(self):
        import httpx  # optional extra [llm]

        if self._client is None:
            headers = {"Content-Type": "application/json"}
            if self._api_key:
                headers["Authorization"] = f"Bearer {self._api_key}"
            self._client = httpx.AsyncClient(
                headers=headers,
                timeout=httpx.Timeout(self.timeout_s),
                limits=httpx.Limits(max_connections=self.max_connections),
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def complete(self, request: ChatRequest) -> ChatResponse:
        import httpx

        client = self._get_client()
        t0 = time.perf_counter()
        try:
            # httpx's timeout bounds each connect/read/write; wait_for bounds the whole call,
            # so a server that trickles bytes cannot hold a worker forever.
            resp = await asyncio.wait_for(
                client.post(self._url, json=request.body()), timeout=self.timeout_s * 2
            )
        except asyncio.TimeoutError:
            raise ProviderError(
                f"timeout: no complete answer within {self.timeout_s * 2:g}s",
                retryable=True,
                kind="timeout",
            ) from None
        except httpx.TimeoutException as exc:
            raise ProviderError(
                f"timeout after {self.timeout_s:g}s ({type(exc).__name__})",
                retryable=True,
                kind="timeout",
            ) from None
        except httpx.TransportError as exc:
            raise ProviderError(
                f"connection error: {type(exc).__name__}", retryable=True, kind="connection"
            ) from None
        latency = time.perf_counter() - t0
        if 300 <= resp.status_code < 400:
            raise ProviderError(
                f"HTTP {resp.status_code} redirect to {self._redact(resp.headers.get('location', '?'), limit=300)!r}: check --base-url",
                status=resp.status_code,
                retryable=False,
                kind="http",
            )
        if resp.status_code >= 400:
            snippet = self._redact(resp.text.replace("\n", " "), limit=300)
            if request.response_format is not None and "response_format" in resp.text:
                # Some servers (llama-cpp-python's) answer an unsupported response_format with a
                # 500 that names the field: that is a rejection of the format, not a transient fault.
                raise ProviderError(
                    f"HTTP {resp.status_code} (response_format rejected): {snippet}",
                    status=resp.status_code,
                    retryable=False,
                    kind="format_rejected",
                )
            retryable = resp.status_code == 429 or resp.status_code >= 500
            raise ProviderError(
                f"HTTP {resp.status_code}: {snippet}",
                status=resp.status_code,
                retryable=retryable,
                retry_after=_parse_retry_after(resp.headers.get("retry-after")),
                kind="http",
            )
        try:
            payload = resp.json()
        except (ValueError, RecursionError):  # not JSON, or nested too deeply to decode
            raise ProviderError(
                f"HTTP {resp.status_code} with a body that is not JSON: {self._redact(resp.text, limit=200)!r}",
                status=resp.status_code,
                retryable=True,
                kind="bad_body",
            ) from None
        return ChatResponse.from_openai(payload, latency_s=latency)
