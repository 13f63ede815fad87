"""The open API, version 1: `/api/v1/` (ADR 0015, docs/api.md).

One `NinjaAPI` with a router per area. Every operation runs the same selectors and services
as the pages; this module only wires them: the problem-details answers for every kind of
refusal, and an OpenAPI document that names those answers for every operation."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI, Swagger
from ninja.errors import AuthenticationError, AuthorizationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.openapi.schema import OpenAPISchema
from ninja.renderers import JSONRenderer

from kejiyun.api.auth import anonymous
from kejiyun.api.errors import PROBLEM_CONTENT_TYPE, ApiProblem, problem_body
from kejiyun.api.parser import NUL_DETAIL, NulInput, NulRefusingParser
from kejiyun.api.schemas import Problem
from kejiyun.common.errors import NotPermitted, Stale

logger = logging.getLogger(__name__)

DESCRIPTION = """科技云开放接口（第 1 版）。与网页使用同一套业务规则与辖区权限。

- 认证：浏览器会话（修改类请求需 CSRF 令牌）；移动端与小程序以手机号+短信验证码或密码换取
  访问令牌与刷新令牌；对接系统使用个人访问令牌或 OAuth2 客户端凭证，按权限范围授权。
- 错误：RFC 9457 problem details（`application/problem+json`），`detail` 为中文说明。
- 分页：游标分页，`next_cursor` 为空表示最后一页。
- 修改：先读取得到 `ETag`，修改时在 `If-Match` 中带上；版本已变化返回 412。
"""

# Refusals any operation may answer, named in the OpenAPI document of each.
ERROR_STATUSES = (400, 401, 403, 404, 409, 412, 422, 428, 429)


class ChineseJSONRenderer(JSONRenderer):
    """Chinese text as itself, not as \\u escapes."""

    json_dumps_params = {"ensure_ascii": False}


class KejiyunAPI(NinjaAPI):
    def public_operation_ids(self) -> set[str]:
        """Operations a caller with no credential may use (`auth=ANYONE`)."""
        found = set()
        for router in self._get_bound_routers():
            for path_view in router.path_operations.values():
                for operation in path_view.operations:
                    if any(callback is anonymous for callback in operation.auth_callbacks):
                        found.add(operation.operation_id or "")
        return found

    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> OpenAPISchema:
        schema = super().get_openapi_schema(*args, **kwargs)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["Problem"] = Problem.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
        problem = {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
        public = self.public_operation_ids()
        for item in schema.get("paths", {}).values():
            for operation in item.values():
                if operation.get("operationId") in public and {} not in operation.get(
                    "security", []
                ):
                    # OpenAPI's "no credential needed": an ANYONE operation also answers
                    # a caller who sends none.
                    operation.setdefault("security", []).append({})
                responses = operation.setdefault("responses", {})
                for key in [k for k in responses if not isinstance(k, str)]:
                    responses[str(key)] = responses.pop(key)
                for status in ERROR_STATUSES:
                    entry = responses.setdefault(
                        str(status), {"description": "错误（problem details）"}
                    )
                    # An operation that declares its own error body (OAuth2's token
                    # endpoint answers RFC 6749 errors) keeps it.
                    entry.setdefault("content", problem)
                for status, entry in responses.items():
                    if status == "429":
                        entry["headers"] = {"Retry-After": {"schema": {"type": "integer"}}}
        return schema


api = KejiyunAPI(
    title="科技云开放接口",
    version="1.0",
    description=DESCRIPTION,
    urls_namespace="api-v1",
    # validatorUrl None: Swagger UI would otherwise show a badge image from
    # validator.swagger.io (sending it the document's address) on any host but localhost.
    docs=Swagger(settings={"persistAuthorization": False, "validatorUrl": None}),
    docs_url="/docs",
    openapi_url="/openapi.json",
    renderer=ChineseJSONRenderer(),
    parser=NulRefusingParser(),
)


def problem(
    request: HttpRequest,
    status: int,
    detail: str,
    *,
    code: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> HttpResponse:
    response = api.create_response(
        request, problem_body(status, detail, code=code, **extra), status=status
    )
    response["Content-Type"] = PROBLEM_CONTENT_TYPE
    for name, value in (headers or {}).items():
        response[name] = value
    return response


@api.exception_handler(ApiProblem)
def _api_problem(request: HttpRequest, exc: ApiProblem) -> HttpResponse:
    return problem(request, exc.status, exc.detail, code=exc.code, headers=exc.headers, **exc.extra)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return problem(request, 404, "对象不存在或不在您的权限范围内。", code="not_found")


@api.exception_handler(Stale)
def _stale(request: HttpRequest, exc: Stale) -> HttpResponse:
    return problem(request, 412, exc.messages[0], code="stale")


@api.exception_handler(NotPermitted)
def _not_permitted(request: HttpRequest, exc: NotPermitted) -> HttpResponse:
    return problem(request, 403, exc.messages[0], code="not_permitted")


@api.exception_handler(PermissionDenied)
def _permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return problem(request, 403, str(exc) or "没有权限执行此操作。", code="forbidden")


@api.exception_handler(DjangoValidationError)
def _service_error(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    if hasattr(exc, "error_dict"):
        errors = {name: [str(m) for m in ms] for name, ms in exc.message_dict.items()}
        first = next(iter(errors.values()))[0] if errors else "请求有误。"
        return problem(request, 400, first, code="invalid", errors=errors)
    code = getattr(exc, "code", None) or "invalid"
    return problem(request, 400, exc.messages[0] if exc.messages else "请求有误。", code=str(code))


@api.exception_handler(NinjaValidationError)
def _invalid(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        where = ".".join(
            str(part) for part in error.get("loc", ()) if part not in ("body", "payload")
        )
        errors.setdefault(where or "request", []).append(str(error.get("msg", "不合法")))
    return problem(
        request, 422, "请求参数不合法，请检查后重试。", code="invalid_request", errors=errors
    )


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return problem(
        request,
        401,
        "请先登录，或在 Authorization 头中带上有效令牌。",
        code="not_authenticated",
        headers={"WWW-Authenticate": 'Bearer realm="kejiyun"'},
    )


@api.exception_handler(AuthorizationError)
def _unauthorised(request: HttpRequest, exc: AuthorizationError) -> HttpResponse:
    return problem(request, 403, "没有权限执行此操作。", code="forbidden")


@api.exception_handler(MultiPartParserError)
def _bad_multipart(request: HttpRequest, exc: MultiPartParserError) -> HttpResponse:
    return problem(request, 400, "请求正文无法解析（multipart 格式有误）。", code="bad_body")


def unknown_path(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Any path under /api/v1/ that names no operation (an id that is not a number, a typo):
    a problem document, like every other refusal of the API, not the site's HTML 404."""
    return problem(request, 404, "接口不存在，请查看 /api/v1/docs。", code="no_such_operation")


def _nul_input_problem(request: HttpRequest) -> HttpResponse:
    return problem(
        request, 422, NUL_DETAIL, code="invalid_request", errors={"request": [NUL_DETAIL]}
    )


@api.exception_handler(NulInput)
def _nul_input(request: HttpRequest, exc: NulInput) -> HttpResponse:
    # A query string or a form with a NUL (a JSON body's comes wrapped in HttpError below).
    return _nul_input_problem(request)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if isinstance(exc.__cause__, NulInput):
        return _nul_input_problem(request)
    if exc.status_code == 400 and str(exc).startswith("Cannot parse request body"):
        # ninja's own words for a body that is not JSON: say it in Chinese.
        return problem(request, 400, "请求体无法解析，请提交合法的 JSON。", code="bad_body")
    return problem(request, exc.status_code, str(exc), code=f"http_{exc.status_code}")


def _register_routers() -> None:
    from kejiyun.api.routers import (
        auth,
        cases,
        demands,
        directory,
        dockings,
        matches,
        me,
        ops,
        plans,
        popsci,
        recognition,
        tokens,
        webhooks,
    )

    api.add_router("/auth", auth.router)
    api.add_router("/me", me.router)
    api.add_router("/me/tokens", tokens.router)
    api.add_router("/webhooks", webhooks.router)
    api.add_router("/demands", demands.router)
    api.add_router("/cases", cases.router)
    api.add_router("/dockings", dockings.router)
    api.add_router("/plans", plans.router)
    api.add_router("/matches", matches.router)
    api.add_router("", directory.router)
    api.add_router("/popsci", popsci.router)
    api.add_router("", ops.router)
    api.add_router("/library", recognition.router)


_register_routers()
