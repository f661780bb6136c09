"""SAM HTTP APIs: an id and endpoint per API; routes (with their JWT authorisers) come
from the functions' ``HttpApi`` events."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scalper.local.jwt_auth import JwtAuthorizer
from scalper.local.provisioned import Route
from scalper.local.resources.base import ResourceProvisioner, short_hash
from scalper.local.template import ResourceRef, merged_properties

if TYPE_CHECKING:
    from scalper.local.provision import Provisioner

HTTP_API_TYPE = "AWS::Serverless::HttpApi"
#: The API SAM creates for functions whose ``HttpApi`` events name none.
IMPLICIT_API = "ServerlessHttpApi"
_USER_POOL = "AWS::Cognito::UserPool"


class HttpApi(ResourceProvisioner):
    """``AWS::Serverless::HttpApi``: served by the local HTTP API, nothing created on moto."""

    resource_type = HTTP_API_TYPE

    def assign_names(self, stack: Provisioner, logical_id: str) -> None:
        """A stable API id and the local stack's endpoint for it."""
        api_id = short_hash(f"{stack.stack}/{logical_id}")
        stack.refs[logical_id] = ResourceRef(
            api_id, {"ApiEndpoint": stack.api_url(api_id), "ApiId": api_id}
        )


def add_route(
    stack: Provisioner, function: str, raw: dict[str, Any], props: dict[str, Any]
) -> None:
    """Add the route of one function's ``HttpApi`` event (``raw``: its unresolved
    properties, which name the API; ``props``: resolved)."""
    api = _api_logical_id(raw)
    if api == IMPLICIT_API and api not in stack.refs:
        HttpApi().assign_names(stack, api)
    api_props = (
        stack.resolve(merged_properties(stack.template, api, "HttpApi"), api)
        if api in stack.result.of_type(HTTP_API_TYPE)
        else {}
    )
    method = str(props.get("Method", "ANY")).upper()
    path = str(props.get("Path", "/$default"))
    auth, authorizer, scopes = _route_auth(
        stack, function, props, api_props, method=method, path=path
    )
    stack.result.routes.append(
        Route(
            api=api,
            method=method,
            path=path,
            function=function,
            auth=auth,
            payload_format=str(props.get("PayloadFormatVersion", "2.0")),
            authorizer=authorizer,
            scopes=scopes,
        )
    )
    if api_props.get("DefaultRouteSettings") or api_props.get("RouteSettings"):
        stack.gap("HTTP API throttling (route settings) is not applied locally")
    if api_props.get("AccessLogSettings"):
        stack.gap("HTTP API access logs are not written locally")
    if api_props.get("Domain"):
        stack.gap("HTTP API custom domain: served on 127.0.0.1 only")


def _api_logical_id(props: dict[str, Any]) -> str:
    api = props.get("ApiId")
    if isinstance(api, dict) and "Ref" in api:
        return str(api["Ref"])
    return IMPLICIT_API


def _route_auth(
    stack: Provisioner,
    function: str,
    props: dict[str, Any],
    api_props: dict[str, Any],
    *,
    method: str,
    path: str,
) -> tuple[str, JwtAuthorizer | None, tuple[str, ...]]:
    """The route's authorisation as SAM builds it: the event's ``Auth.Authorizer``,
    else the route's own ``security`` in the (resolved) OpenAPI ``DefinitionBody`` --
    SAM keeps a non-empty one -- else the API's ``DefaultAuthorizer``."""
    api_auth = api_props.get("Auth") or {}
    name, scopes = _authorizer_name(stack, props, api_props, method, path)
    if api_auth.get("EnableIamAuthorizer") is False and name == "AWS_IAM":
        name = "NONE"
    if name in ("NONE", None):
        return "NONE", None, ()
    if name == "AWS_IAM":
        stack.gap("HTTP API IAM authorisation: a SigV4 signature is required, but not verified")
        return "AWS_IAM", None, ()
    declared = (api_auth.get("Authorizers") or {}).get(name) or {}
    jwt = declared.get("JwtConfiguration")
    if not isinstance(jwt, dict):
        stack.gap(
            f"{function}: HTTP API authoriser {name!r} is not provided; its routes are open locally"
        )
        return "NONE", None, ()
    authorizer = _jwt_authorizer(stack, str(name), declared, jwt)
    chosen = scopes if scopes else declared.get("AuthorizationScopes")
    return "JWT", authorizer, tuple(str(s) for s in chosen or ())


def _authorizer_name(
    stack: Provisioner, props: dict[str, Any], api_props: dict[str, Any], method: str, path: str
) -> tuple[Any, Any]:
    """The authoriser a route names and the scopes it asks for (before IAM is considered)."""
    event_auth = props.get("Auth") or {}
    name = event_auth.get("Authorizer")
    scopes = event_auth.get("AuthorizationScopes")
    if name is not None:
        return name, scopes
    security = _body_security(api_props.get("DefinitionBody"), method, path)
    if not security:
        return (api_props.get("Auth") or {}).get("DefaultAuthorizer", "NONE"), scopes
    if len(security) > 1:
        stack.gap(
            f"{method} {path}: only the first OpenAPI security requirement is applied locally"
        )
    first = security[0] if isinstance(security[0], dict) else {}
    if not first:
        return "NONE", scopes
    return next(iter(first.items()))


def _jwt_authorizer(
    stack: Provisioner, name: str, declared: dict[str, Any], jwt: dict[str, Any]
) -> JwtAuthorizer:
    issuer = str(jwt.get("issuer", jwt.get("Issuer", "")))
    audience = jwt.get("audience", jwt.get("Audience")) or []
    source = str(declared.get("IdentitySource", "$request.header.Authorization"))
    header = "authorization"
    if source.startswith("$request.header.") and "," not in source:
        header = source.removeprefix("$request.header.").lower()
    else:
        stack.gap(f"JWT authoriser {name}: identity source {source} is read as Authorization")
    pools = {stack.refs[p].ref for p in stack.result.of_type(_USER_POOL)}
    prefix = f"https://cognito-idp.{stack.region}.amazonaws.com/"
    pool_id = issuer.removeprefix(prefix) if issuer.startswith(prefix) else None
    jwks_url = None
    if pool_id in pools:
        # moto serves each pool's keys where Cognito does, under the AWS endpoint.
        jwks_url = f"{stack.endpoint_url}/{pool_id}/.well-known/jwks.json"
    else:
        stack.gap(
            f"JWT authoriser {name}: issuer {issuer} is not a user pool of this stack; "
            "its routes refuse every token locally"
        )
    return JwtAuthorizer(
        name=name,
        issuer=issuer,
        audience=tuple(str(a) for a in audience),
        header=header,
        jwks_url=jwks_url,
    )


def _body_security(body: Any, method: str, path: str) -> list[Any] | None:
    """The ``security`` of one operation in an OpenAPI body (None when it sets none)."""
    if not isinstance(body, dict):
        return None
    item = (body.get("paths") or {}).get(path)
    if not isinstance(item, dict):
        return None
    operation = item.get("x-amazon-apigateway-any-method" if method == "ANY" else method.lower())
    security = operation.get("security") if isinstance(operation, dict) else None
    return security if isinstance(security, list) else None
