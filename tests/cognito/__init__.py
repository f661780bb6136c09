"""The local stack with AuthMode=COGNITO (its own package: one stack per process)."""
