"""The request parser of the open API: ninja's, refusing text with a NUL character.

PostgreSQL cannot store or compare text containing NUL (0x00): a NUL reaching a query is a
database error, a 500. No field of any operation has a use for one, so every string in a
JSON body, a query string or a form (keys included) is checked here, once, before any
operation runs, and a NUL is answered 422 like any other invalid input."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.datastructures import MultiValueDict
from ninja.parser import Parser
from ninja.types import DictStrAny

NUL_DETAIL = "请求中不能包含空字符（NUL）。"


class NulInput(ValueError):
    """A request carried a NUL character in some text."""


def _refuse_nul(value: Any) -> None:
    if isinstance(value, str):
        if "\x00" in value:
            raise NulInput(NUL_DETAIL)
    elif isinstance(value, dict):
        for key, item in value.items():
            _refuse_nul(key)
            _refuse_nul(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _refuse_nul(item)


class NulRefusingParser(Parser):
    def parse_body(self, request: HttpRequest) -> DictStrAny:
        data = super().parse_body(request)
        _refuse_nul(data)
        return data

    def parse_querydict(
        self, data: MultiValueDict, list_fields: list[str], request: HttpRequest
    ) -> DictStrAny:
        result = super().parse_querydict(data, list_fields, request)
        _refuse_nul(result)
        return result
