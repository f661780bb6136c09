"""Fixtures of the security tests: the template (as written and as SAM transforms it) and a
moto stack to run the real handlers in, with the environment template.yaml gives them.
"""

from __future__ import annotations

import copy
import io
import logging
import sys
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import boto3
import pytest
from handler_support import (
    REGION,
    TEMPLATE,
    TEST_CREDENTIALS,
    create_buckets,
    create_metadata_table,
    create_uploads_table,
    import_handler,
    template_env,
)
from moto import mock_aws
from security_support import STACK, Stack

from scalper.local.template import load_template
from scalper.security.checks import Templates
from scalper.security.transform import sam_to_cfn


@pytest.fixture(scope="session")
def sam_template() -> dict[str, Any]:
    """template.yaml as data (long-form intrinsics). Tests copy it before changing it."""
    return load_template(TEMPLATE)


@pytest.fixture(scope="session")
def cfn_template(sam_template: dict[str, Any]) -> dict[str, Any]:
    """The CloudFormation SAM makes of template.yaml, transformed offline."""
    return sam_to_cfn(sam_template)


@pytest.fixture
def templates(sam_template: dict[str, Any], cfn_template: dict[str, Any]) -> Templates:
    """Private copies of both templates, free for a test to break."""
    return Templates(sam=copy.deepcopy(sam_template), cfn=copy.deepcopy(cfn_template))


@pytest.fixture(scope="module")
def stack(sam_template: dict[str, Any], request: pytest.FixtureRequest) -> Iterator[Stack]:
    """Buckets (versioned), table and topic inside moto; the template's environment set.

    One per test module (starting moto and importing a handler costs about a second), named
    after the module: moto's state is process-wide while any mock is active, so names must not
    collide with another module's.
    """
    module = request.module.__name__.removeprefix("test_").replace("_", "-")
    name = f"{STACK}-{module}"[:40]
    env = template_env(sam_template, name)
    with pytest.MonkeyPatch.context() as monkeypatch, mock_aws():
        for var, value in {**TEST_CREDENTIALS, **env}.items():
            monkeypatch.setenv(var, value)
        s3 = boto3.client("s3", region_name=REGION)
        buckets = {"InputBucket": env["INPUT_BUCKET"], "QuarantineBucket": env["QUARANTINE_BUCKET"]}
        create_buckets(s3, sam_template, buckets)
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        create_metadata_table(dynamodb, sam_template, env["METADATA_TABLE"])
        create_uploads_table(dynamodb, sam_template, env["UPLOADS_TABLE"])
        boto3.client("sns", region_name=REGION).create_topic(Name=f"{name}-alerts")
        yield Stack(env=env, s3=s3)


@pytest.fixture(scope="module")
def load_handler(stack: Stack) -> Iterator[Callable[[str], ModuleType]]:
    """Import ``functions/<name>/app.py`` inside moto (its clients bind to moto), once a module."""
    loaded: dict[str, ModuleType] = {}

    def load(name: str) -> ModuleType:
        if name not in loaded:
            loaded[name] = import_handler(name, f"scalper_security_handler_{name}")
        return loaded[name]

    yield load
    for name in loaded:
        sys.modules.pop(f"scalper_security_handler_{name}", None)


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    """Everything the handlers' Powertools Logger writes, at DEBUG, as Lambda would ship it.

    The shared Logger binds its stream when first imported, so the handler's stream is swapped
    rather than relying on capsys.
    """
    from silent_scalper.observability import logger

    buffer = io.StringIO()
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    previous_stream = handler.setStream(buffer)
    previous_level = logger.log_level
    logger.setLevel("DEBUG")
    try:
        yield buffer
    finally:
        logger.setLevel(previous_level)
        handler.setStream(previous_stream)
