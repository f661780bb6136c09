"""Silent Scalper core: the code every Lambda, the CLI and the tests share.

- ``silent_scalper.engine``: the streaming validation engine, schemas and reason codes.
- ``silent_scalper.pipeline``: one typed function per state-machine step, called by the
  thin handlers under ``functions/``.
- ``silent_scalper.settings``: the typed configuration read once at cold start.
"""
