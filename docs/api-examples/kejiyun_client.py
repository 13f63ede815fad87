"""A small client for the Kejiyun open API (`/api/v1/`), standard library only.

Used by the example scripts beside it. It signs in (password or SMS code), keeps the access
and refresh tokens, and when a call is refused with 401 because the access token expired,
spends the refresh token once (`grant_type=refresh_token`) and repeats the call. A token
given on the command line (a personal access token) is used as is and never refreshed.

Every refusal of the API is a problem document (RFC 9457) with a Chinese `detail`;
`ApiError` carries it.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any


class ApiError(Exception):
    """The API refused a call: `status`, and the problem document (`detail`, `code`…)."""

    def __init__(self, status: int, problem: dict[str, Any], headers: Any = None) -> None:
        self.status = status
        self.problem = problem
        self.headers = headers
        super().__init__(f"{status} {problem.get('code', '')}: {problem.get('detail', '')}")

    @property
    def detail(self) -> str:
        return str(self.problem.get("detail", ""))


class Client:
    def __init__(self, base_url: str, *, token: str = "", timeout: float = 30.0) -> None:
        if urllib.parse.urlsplit(base_url).scheme not in ("http", "https"):
            raise ValueError(f"not an http(s) address: {base_url}")
        self.base = base_url.rstrip("/") + "/api/v1"
        self.access_token = token
        self.refresh_token = ""
        self.timeout = timeout

    # --- signing in -------------------------------------------------------------------------

    def request_sms_code(self, mobile: str) -> None:
        """Ask for a sign-in code by SMS. The answer is the same whether or not the number
        is registered (202); only a registered number receives a code."""
        self._call("POST", "/auth/sms-code", {"mobile": mobile}, auth=False)

    def sign_in_with_password(self, login: str, password: str) -> None:
        self._token_grant({"grant_type": "password", "login": login, "password": password})

    def sign_in_with_sms_code(self, mobile: str, code: str) -> None:
        self._token_grant({"grant_type": "sms_code", "mobile": mobile, "code": code})

    def refresh(self) -> bool:
        """Spend the refresh token for a new pair; False when there is none to spend."""
        if not self.refresh_token:
            return False
        self._token_grant({"grant_type": "refresh_token", "refresh_token": self.refresh_token})
        return True

    def _token_grant(self, body: dict[str, str]) -> None:
        answer = self._call("POST", "/auth/token", body, auth=False)
        self.access_token = answer["access_token"]
        self.refresh_token = answer.get("refresh_token", "")

    # --- calls ------------------------------------------------------------------------------

    def get(self, path: str, **params: Any) -> Any:
        query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
        return self.call("GET", f"{path}?{query}" if query else path)

    def post(self, path: str, body: Any = None, *, if_match: str = "") -> Any:
        return self.call("POST", path, body if body is not None else {}, if_match=if_match)

    def call(self, method: str, path: str, body: Any = None, *, if_match: str = "") -> Any:
        """`method path` with the access token; once more after a refresh if it expired."""
        try:
            return self._call(method, path, body, if_match=if_match)
        except ApiError as error:
            if error.status != 401 or not self.refresh():
                raise
        return self._call(method, path, body, if_match=if_match)

    def call_with_etag(self, path: str) -> tuple[Any, str]:
        """GET `path`: its body and its `ETag` (to send back as `If-Match` with an edit)."""
        try:
            return self._call("GET", path, None, want_etag=True)  # type: ignore[return-value]
        except ApiError as error:
            if error.status != 401 or not self.refresh():
                raise
        return self._call("GET", path, None, want_etag=True)  # type: ignore[return-value]

    def _call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        auth: bool = True,
        if_match: str = "",
        want_etag: bool = False,
    ) -> Any:
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if auth and self.access_token:
            headers["Authorization"] = f"Bearer {self.access_token}"
        if if_match:
            headers["If-Match"] = if_match
        # http(s) only: the scheme was checked in __init__.
        request = urllib.request.Request(  # noqa: S310
            self.base + path, data=data, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                raw = response.read()
                payload = json.loads(raw) if raw else None
                if want_etag:
                    return payload, response.headers.get("ETag", "")
                return payload
        except urllib.error.HTTPError as error:
            raw = error.read()
            try:
                problem = json.loads(raw) if raw else {}
            except ValueError:
                problem = {"detail": raw.decode("utf-8", "replace")[:200]}
            raise ApiError(error.code, problem, error.headers) from None
