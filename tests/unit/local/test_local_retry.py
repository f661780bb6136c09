"""The documented knob that shortens Retry waits locally (never the deployed ASL)."""

from __future__ import annotations

import time

import pytest

from scalper.local import moto_internals, retry


@pytest.mark.parametrize("text", ["0", "-1", "2", "fast"])
def test_a_scale_outside_zero_to_one_is_refused(text: str) -> None:
    """Given SCALPER_RETRY_SCALE=0, -1, 2 or a word, then the error names the variable."""
    with pytest.raises(ValueError, match="SCALPER_RETRY_SCALE must be a number in"):
        retry.parse_scale(text)


def test_unset_means_real_time() -> None:
    """Given no value, then the factor is 1 (waits as the ASL says)."""
    assert retry.parse_scale(None) == 1.0
    assert retry.parse_scale(" ") == 1.0


def test_installing_scales_the_interpreters_retry_wait_and_uninstalling_restores_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Given the scale installed at 0.01, then the retrier's 2 s wait is asked of the
    clock as 20 ms; once uninstalled, the retrier uses the real time module again.

    This also fails loudly if a new moto release moves the hook point."""
    module = moto_internals.retrier_module()
    slept: list[float] = []
    retry.install(0.01)
    try:
        monkeypatch.setattr(time, "sleep", slept.append)
        module.time.sleep(2.0)
        monkeypatch.undo()
        assert slept == [pytest.approx(0.02)]
        assert retry.current_scale() == 0.01
    finally:
        retry.uninstall()
    assert module.time is time
    assert retry.current_scale() == 1.0
