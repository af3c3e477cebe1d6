"""The judge service: the harness's verdicts over HTTP (``humaneval-x serve``; README "Judge service").

- ``engine``: the framework-free core: warm sandboxes per language, a bounded queue of programs, slots
  that feed the sandboxes through ``Executor.run`` / ``SandboxPool``, submissions (sync, jobs,
  idempotent by request id), metrics, drain.
- ``app``: the HTTP face (Starlette on uvicorn; the ``[serve]`` extra).
- ``client``: a small standard-library client (retries with backoff, batching, request ids).
- ``reward``: an example reward function for a training loop.
- ``runcode``: arbitrary programs under the same per-program boundary, and the request/response
  shapes of SandboxFusion's ``/run_code`` and Piston's ``/api/v2/execute``.
"""
