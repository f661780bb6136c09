"""Hypothesis profiles for the differential suite.

``differential`` (the default here): a fixed seed and a few seconds, for every test run.
``fuzz`` (``make fuzz``): many more examples from random seeds.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

_COMMON = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
    "print_blob": True,
}
settings.register_profile("differential", max_examples=60, derandomize=True, **_COMMON)
settings.register_profile("fuzz", max_examples=1500, **_COMMON)
if settings.get_current_profile_name() == "default":  # no --hypothesis-profile given
    settings.load_profile("differential")
