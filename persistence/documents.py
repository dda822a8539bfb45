"""Word templates rendered with docxtpl (Jinja inside .docx) in a sandbox: an uploaded template can
show tokens, loop and branch, but not reach Python."""

from __future__ import annotations

import asyncio
import io
import zipfile
from functools import cache
from importlib.resources import files
from typing import Any

from docxtpl import DocxTemplate
from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from domain.documents import TOKEN_NAMES, sample_tokens
from domain.errors import ValidationError

DEFAULT_TEMPLATE = "quote.docx"


def _environment() -> SandboxedEnvironment:
    # StrictUndefined: a misspelt token fails when the template is checked instead of printing nothing;
    # autoescape: a name with & or < stays text instead of breaking the document's XML.
    return SandboxedEnvironment(undefined=StrictUndefined, autoescape=True)


@cache
def _default() -> bytes:
    return files("persistence.templates").joinpath(DEFAULT_TEMPLATE).read_bytes()


def _open(content: bytes, field: str) -> DocxTemplate:
    if not zipfile.is_zipfile(io.BytesIO(content)):
        raise ValidationError(field, "is not a Word document (.docx): it is not even a ZIP archive")
    try:
        template = DocxTemplate(io.BytesIO(content))
        template.init_docx()
    except Exception as error:  # noqa: BLE001 - any failure to read means "not a usable .docx"
        raise ValidationError(field, f"is not a readable Word document (.docx): {error}") from None
    return template


class DocxTemplateEngine:
    """The domain's TemplateEngine with docxtpl."""

    def default_template(self) -> bytes:
        return _default()

    async def check(self, content: bytes) -> None:
        # Opening and rendering a .docx is CPU work of up to a few hundred milliseconds: off the event loop.
        await asyncio.to_thread(self._check, content)

    async def render(self, template: bytes, tokens: dict[str, Any]) -> bytes:
        return await asyncio.to_thread(self._render, template, tokens, "templateId")

    def _check(self, content: bytes) -> None:
        template = _open(content, "contentBase64")
        try:
            names = template.get_undeclared_template_variables(_environment())
        except TemplateError as error:
            raise ValidationError("contentBase64", f"the template's tokens do not parse: {error}") from None
        except Exception as error:  # noqa: BLE001 - docxtpl raises whatever its XML pass meets
            raise ValidationError("contentBase64", f"is not a readable Word template: {error}") from None
        unknown = sorted(set(names) - TOKEN_NAMES)
        if unknown:
            raise ValidationError(
                "contentBase64",
                f"unknown tokens {', '.join(unknown)}; a template can use {', '.join(sorted(TOKEN_NAMES))}",
            )
        self._render(content, sample_tokens(), "contentBase64")

    def _render(self, content: bytes, tokens: dict[str, Any], field: str) -> bytes:
        template = _open(content, field)
        try:
            template.render(tokens, jinja_env=_environment())
        except TemplateError as error:
            raise ValidationError(field, f"the template cannot be filled in: {error}") from None
        except Exception as error:  # noqa: BLE001 - a broken template is the template's fault, not the server's
            raise ValidationError(field, f"the template cannot be filled in: {error}") from None
        out = io.BytesIO()
        template.save(out)
        return out.getvalue()
