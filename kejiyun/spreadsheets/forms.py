"""Upload and confirm forms for spreadsheet imports."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile

from kejiyun.common.forms import BootstrapFormMixin
from kejiyun.spreadsheets.workbooks import MAX_UPLOAD_BYTES, TOO_BIG, xlsx_check


class UploadForm(BootstrapFormMixin, forms.Form):
    file = forms.FileField(
        label="Excel 文件",
        help_text="请使用平台提供的 .xlsx 模板，文件不超过5MB、数据不超过5000行。",
        widget=forms.ClearableFileInput(
            attrs={
                "accept": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
        ),
    )

    def clean_file(self) -> bytes:
        """The file's bytes, once its size and its content say it is an .xlsx workbook."""
        upload: UploadedFile = self.cleaned_data["file"]
        if upload.size is not None and upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(TOO_BIG, code="too_big")
        data: bytes = upload.read(MAX_UPLOAD_BYTES + 1)
        # A SheetError is a ValidationError: the form shows it.
        xlsx_check(data, filename=upload.name or "")
        return data

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.filename = ""
        upload = self.files.get("file") if self.files else None
        if isinstance(upload, UploadedFile):
            self.filename = upload.name or ""


class ConfirmForm(forms.Form):
    valid_rows_only = forms.BooleanField(required=False)
