"""Errors of the API as RFC 9457 problem details, with a Chinese `detail` (ADR 0015).

Every refusal answers `application/problem+json`:
`{"type": "https://kejiyun.cn/problems/<code>", "title": …, "status": …, "detail": …,
"code": …}` plus, for a form error, `errors` (field → messages). Services refuse with
`ServiceError` (400), `Stale` (412, the version the client saw is gone) and `NotPermitted`
(403); selectors refuse objects outside the caller's jurisdiction with 404."""

from __future__ import annotations

from typing import Any

PROBLEM_TYPE_BASE = "https://kejiyun.cn/problems/"
PROBLEM_CONTENT_TYPE = "application/problem+json"

TITLES = {
    400: "请求有误",
    401: "需要登录",
    403: "没有权限",
    404: "未找到",
    405: "方法不允许",
    409: "状态冲突",
    412: "版本已变化",
    415: "不支持的内容类型",
    422: "参数不合法",
    428: "缺少版本条件",
    429: "请求过于频繁",
    500: "服务器错误",
}


class ApiProblem(Exception):
    """Raise from an operation to answer a problem document with `status`."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        code: str = "",
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.code = code or TITLES.get(status, "error")
        self.headers = headers or {}
        self.extra = extra


def problem_body(status: int, detail: str, *, code: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": PROBLEM_TYPE_BASE + code,
        "title": TITLES.get(status, "错误"),
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }
