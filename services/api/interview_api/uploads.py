"""Reading one uploaded file from a multipart/form-data request, with a size limit."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from interview_shared.http import ApiError
from starlette.datastructures import UploadFile

FORM_OVERHEAD = 64 * 1024
"""Bytes a multipart body may carry beyond the file (boundaries, the other fields)."""
ANY_TYPE = "application/octet-stream"


@dataclass(frozen=True, slots=True)
class Upload:
    """The file and the form's text fields."""

    data: bytes
    filename: str
    content_type: str
    fields: dict[str, str]


async def read_upload(request: Request, *, name: str, limit: int, error: str) -> Upload:
    """The file field `name` (at most `limit` bytes, else 413 `<name>_too_large`) and the text
    fields; `error` is the 422 code when the form has no such file."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + FORM_OVERHEAD:
        raise ApiError(413, f"{name}_too_large", f"The {name} may be at most {limit} bytes.")
    async with request.form(max_files=1, max_fields=4) as form:  # closes the spooled file
        file = form.get(name)
        if not isinstance(file, UploadFile):
            raise ApiError(422, error, f"Send the `{name}` file as multipart/form-data.")
        data = await file.read(limit + 1)
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        upload = Upload(data, file.filename or "", file.content_type or ANY_TYPE, fields)
    if len(data) > limit:
        raise ApiError(413, f"{name}_too_large", f"The {name} may be at most {limit} bytes.")
    return upload
