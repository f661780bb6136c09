"""Silent Scalper tooling: the `scalper` command line, the local stack and test helpers.

Nothing here is deployed to Lambda; the deployed code is the core package
`silent_scalper` (layers/core), which this package uses rather than re-implements.
"""
