"""The typed core of the operations commands, usable without the CLI.

Each function takes boto3 clients (and a :class:`~scalper.ops.target.Target`) and returns
plain dataclasses, so tests drive them with moto, the local stack or botocore's Stubber:

| command | module |
|---|---|
| target resolution (``--stack`` / ``--endpoint``) | :mod:`scalper.ops.target` |
| ``status KEY`` | :mod:`scalper.ops.status` |
| ``executions``, ``replay`` | :mod:`scalper.ops.executions` |
| ``redrive`` | :mod:`scalper.ops.redrive` |
| ``reprocess`` | :mod:`scalper.ops.reprocess` (mechanics: ``pipeline.reprocess_quarantined``) |
| ``sweep`` | :mod:`scalper.ops.sweep` |
"""

from scalper.ops.common import NotFoundError, OpsError, TargetError, TokenBucket
from scalper.ops.target import Clients, Target, make_clients, resolve

__all__ = [
    "Clients",
    "NotFoundError",
    "OpsError",
    "Target",
    "TargetError",
    "TokenBucket",
    "make_clients",
    "resolve",
]
