"""Cognito user pools and app clients (moto chooses their ids at creation)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scalper.local.resources.base import ResourceProvisioner, short_hash
from scalper.local.template import ResourceRef

if TYPE_CHECKING:
    from scalper.local.provision import Provisioner

#: UserPool properties passed to CreateUserPool as they are (CloudFormation's names are the API's).
_POOL_PROPERTIES = (
    "Policies",
    "AutoVerifiedAttributes",
    "AliasAttributes",
    "UsernameAttributes",
    "UsernameConfiguration",
    "MfaConfiguration",
    "AdminCreateUserConfig",
    "AccountRecoverySetting",
    "UserPoolTags",
    "Schema",
    "DeviceConfiguration",
    "VerificationMessageTemplate",
    "DeletionProtection",
)
#: UserPoolClient properties passed to CreateUserPoolClient as they are.
_CLIENT_PROPERTIES = (
    "GenerateSecret",
    "ExplicitAuthFlows",
    "PreventUserExistenceErrors",
    "EnableTokenRevocation",
    "AccessTokenValidity",
    "IdTokenValidity",
    "RefreshTokenValidity",
    "TokenValidityUnits",
    "ReadAttributes",
    "WriteAttributes",
    "SupportedIdentityProviders",
    "CallbackURLs",
    "LogoutURLs",
    "DefaultRedirectURI",
    "AllowedOAuthFlows",
    "AllowedOAuthScopes",
    "AllowedOAuthFlowsUserPoolClient",
    "AuthSessionValidity",
)


class UserPool(ResourceProvisioner):
    """``AWS::Cognito::UserPool``: created first among what refers to it, id from moto."""

    resource_type = "AWS::Cognito::UserPool"

    def assign_names(self, stack: Provisioner, logical_id: str) -> None:
        """A placeholder pool id: moto chooses the real one when the pool is created, which
        is before anything that resolves a reference to it."""
        pool_id = f"{stack.region}_pending{short_hash(logical_id, 8)}"
        stack.refs[logical_id] = ResourceRef(
            pool_id, pool_attributes(stack.region, stack.account_id, pool_id)
        )

    def create(self, stack: Provisioner, logical_id: str) -> None:
        """CreateUserPool (and its software-token MFA), then record moto's pool id."""
        props = stack.resolve(stack.properties(logical_id), logical_id)
        ref = stack.refs[logical_id]
        args: dict[str, Any] = {"PoolName": str(props.get("UserPoolName") or ref.ref)}
        args.update({k: props[k] for k in _POOL_PROPERTIES if k in props})
        ignored = sorted(set(props) - set(_POOL_PROPERTIES) - {"UserPoolName", "EnabledMfas"})
        if ignored:
            stack.gap(f"{logical_id}: {', '.join(ignored)} not applied by the local user pool")
        idp = stack.client("cognito-idp")
        pool = idp.create_user_pool(**args)["UserPool"]
        pool_id = str(pool["Id"])
        mfa = str(props.get("MfaConfiguration", "OFF"))
        if mfa != "OFF" and "SOFTWARE_TOKEN_MFA" in (props.get("EnabledMfas") or []):
            idp.set_user_pool_mfa_config(
                UserPoolId=pool_id,
                SoftwareTokenMfaConfiguration={"Enabled": True},
                MfaConfiguration=mfa,
            )
        ref.ref = pool_id
        ref.attributes = pool_attributes(stack.region, stack.account_id, pool_id)
        stack.gap(
            "Cognito (moto): sign-in does not check the SRP password proof (any password "
            "signs in), app client auth flows are not enforced, and no e-mail is sent"
        )


class UserPoolClient(ResourceProvisioner):
    """``AWS::Cognito::UserPoolClient``: created after its pool, id from moto."""

    resource_type = "AWS::Cognito::UserPoolClient"

    def assign_names(self, stack: Provisioner, logical_id: str) -> None:
        """A placeholder client id, replaced when the client is created."""
        stack.refs[logical_id] = ResourceRef(f"pending{short_hash(logical_id, 16)}", {})

    def create(self, stack: Provisioner, logical_id: str) -> None:
        """CreateUserPoolClient, then record moto's client id (and secret, if any)."""
        props = stack.resolve(stack.properties(logical_id), logical_id)
        ref = stack.refs[logical_id]
        args: dict[str, Any] = {
            "UserPoolId": str(props["UserPoolId"]),
            "ClientName": str(props.get("ClientName") or f"{stack.stack}-{logical_id}"),
        }
        args.update({k: props[k] for k in _CLIENT_PROPERTIES if k in props})
        client = stack.client("cognito-idp").create_user_pool_client(**args)["UserPoolClient"]
        ref.ref = str(client["ClientId"])
        ref.attributes = {"ClientId": ref.ref, "Name": str(client["ClientName"])}
        if client.get("ClientSecret"):
            ref.attributes["ClientSecret"] = str(client["ClientSecret"])


def pool_attributes(region: str, account: str, pool_id: str) -> dict[str, Any]:
    """A user pool's ``!GetAtt`` attributes for its id."""
    provider = f"cognito-idp.{region}.amazonaws.com/{pool_id}"
    return {
        "Arn": f"arn:aws:cognito-idp:{region}:{account}:userpool/{pool_id}",
        "ProviderName": provider,
        "ProviderURL": f"https://{provider}",
        "UserPoolId": pool_id,
    }
