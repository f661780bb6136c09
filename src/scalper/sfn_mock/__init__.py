"""Step Functions Local mock configurations (``MockConfigFile.json``), run on moto or Docker.

- :mod:`scalper.sfn_mock.model`: the typed, checked model of the mock configuration file.
- :mod:`scalper.sfn_mock.moto_hook`: :func:`mock_config_installed`, which makes moto's Step
  Functions engine honour ``stateMachineArn#TestCase`` executions (moto pinned, hook points
  verified before patching).
- :mod:`scalper.sfn_mock.definition`: the state machine definition with its SAM
  ``DefinitionSubstitutions`` resolved as the deployment resolves them.
- :mod:`scalper.sfn_mock.runner`: start a test case on any Step Functions endpoint and read
  back the states entered, attempts, status and output.
- :mod:`scalper.sfn_mock.asl` and :mod:`scalper.sfn_mock.scaffold`: the definition's
  transition graph, and a starting test case for one path through it
  (``scalper sfn-mock scaffold``).
"""

from scalper.sfn_mock.model import MockConfig, MockConfigError, MockedAttempt, MockedResponse
from scalper.sfn_mock.moto_hook import (
    MotoHookMovedError,
    MotoMockHook,
    mock_config_installed,
    verify_hook_points,
)

__all__ = [
    "MockConfig",
    "MockConfigError",
    "MockedAttempt",
    "MockedResponse",
    "MotoHookMovedError",
    "MotoMockHook",
    "mock_config_installed",
    "verify_hook_points",
]
