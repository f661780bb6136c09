"""Offline security tooling for the SAM template.

- :mod:`.cfn` loads CloudFormation YAML (short-form intrinsics included) into plain dicts.
- :mod:`.transform` runs aws-sam-translator offline, so scanners see the roles, routes, stages
  and state machine SAM generates, not only the SAM shorthand.
- :mod:`.checks` holds the checks no off-the-shelf scanner makes for this stack.

``python -m scalper.security`` runs the transform and the checks (``make scan``).
"""
