"""The upload route's authorisation in each ``AuthMode``, as CloudFormation would deploy it.

``IAM`` (the default) signs with SigV4 and creates no user pool; ``COGNITO`` puts the
stack's own pool and app client behind a JWT authoriser. Either way the route invokes
presign.
"""

from __future__ import annotations

from typing import Any

import pytest
from deployed_template import deployed, of_type, source_template

MODES = ("IAM", "COGNITO")


def route_security(template: dict[str, Any]) -> list[dict[str, Any]]:
    body = template["Resources"]["UploadsApi"]["Properties"]["Body"]
    security: list[dict[str, Any]] = body["paths"]["/uploads"]["post"]["security"]
    return security


def test_given_the_default_iam_mode_then_post_uploads_needs_sigv4_and_no_user_pool_exists():
    template = deployed("IAM")
    assert route_security(template) == [{"AWS_IAM": []}]
    assert not of_type(template, "AWS::Cognito::UserPool")
    assert not of_type(template, "AWS::Cognito::UserPoolClient")
    assert "UserPoolId" not in {
        k for k, v in source_template()["Outputs"].items() if "Condition" not in v
    }


def test_given_cognito_mode_then_post_uploads_needs_a_jwt_of_the_stack_s_pool_and_client():
    template = deployed("COGNITO")
    assert route_security(template) == [{"CognitoAuthorizer": []}]
    body = template["Resources"]["UploadsApi"]["Properties"]["Body"]
    scheme = body["components"]["securitySchemes"]["CognitoAuthorizer"]
    authorizer = scheme["x-amazon-apigateway-authorizer"]
    assert authorizer["type"] == "jwt"
    assert authorizer["identitySource"] == "$request.header.Authorization"
    jwt = authorizer["jwtConfiguration"]
    assert jwt["issuer"] == {
        "Fn::Sub": "https://cognito-idp.${AWS::Region}.amazonaws.com/${UploadsUserPool}"
    }
    assert jwt["audience"] == [{"Ref": "UploadsUserPoolClient"}]
    [pool] = of_type(template, "AWS::Cognito::UserPool").values()
    assert pool["Properties"]["AdminCreateUserConfig"] == {"AllowAdminCreateUserOnly": True}
    assert pool["Properties"]["Policies"]["PasswordPolicy"]["MinimumLength"] >= 12
    [client] = of_type(template, "AWS::Cognito::UserPoolClient").values()
    assert client["Properties"]["GenerateSecret"] is False
    assert client["Properties"]["PreventUserExistenceErrors"] == "ENABLED"
    assert "ALLOW_USER_PASSWORD_AUTH" not in client["Properties"]["ExplicitAuthFlows"]


@pytest.mark.parametrize("mode", MODES)
def test_given_either_mode_then_the_route_still_invokes_presign(mode):
    body = deployed(mode)["Resources"]["UploadsApi"]["Properties"]["Body"]
    integration = body["paths"]["/uploads"]["post"]["x-amazon-apigateway-integration"]
    assert "${PresignFunction.Arn}" in integration["uri"]["Fn::Sub"]
    assert integration["payloadFormatVersion"] == "2.0"
