"""Forms of the 在线申报 pages. They only lay out and parse input; portal.applications.services decides.

Every field is optional here on purpose: the service checks contact details and files and gives the
same Chinese messages (by field) to the pages and the API.
"""

from __future__ import annotations

from typing import Any

from django import forms

from portal.applications.files import ACCEPT_ATTRIBUTE, ALLOWED_LABEL, human_size, max_bytes
from portal.applications.requirements import STATEMENT_MAX_LENGTH, Material


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MaterialFilesField(forms.Field):
    """Several files for one material; read from request.FILES by the view, checked by the service."""

    widget = MultipleFileInput

    def clean(self, value: Any) -> Any:
        return value


class ApplicationForm(forms.Form):
    contact_name = forms.CharField(label="联系人", required=False, max_length=50)
    contact_phone = forms.CharField(
        label="联系电话",
        required=False,
        max_length=30,
        help_text="11位手机号码，或带区号的固定电话（如 0512-66668888）",
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    statement = forms.CharField(
        label="申报说明",
        required=False,
        max_length=STATEMENT_MAX_LENGTH,
        help_text="简要说明申报的项目、金额或需要说明的情况（选填）",
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(
        self,
        *args: Any,
        materials: list[Material],
        uploaded: dict[str, list[str]] | None = None,
        **kwargs: Any,
    ) -> None:
        """`uploaded`: material name → file names already on the application (resubmission, reopening)."""
        super().__init__(*args, **kwargs)
        uploaded = uploaded or {}
        self.material_fields: list[str] = []
        self.fetched: list[Material] = [m for m in materials if not m.needs_upload]
        rules = f"支持 {ALLOWED_LABEL}，单个文件不超过 {human_size(max_bytes())}，可一次选择多个文件。"
        for material in materials:
            if not material.needs_upload:
                continue
            have = uploaded.get(material.name)
            attrs = {"accept": ACCEPT_ATTRIBUTE}
            if not have:
                attrs["required"] = "required"  # the browser says so first; the service checks anyway
            help_text = f"已上传：{'、'.join(have)}。重新选择文件将替换已上传的文件。{rules}" if have else rules
            self.fields[material.field] = MaterialFilesField(
                label=material.name, required=False, help_text=help_text, widget=MultipleFileInput(attrs=attrs)
            )
            self.material_fields.append(material.field)

    @property
    def material_bound_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.material_fields]

    @property
    def contact_bound_fields(self) -> list[forms.BoundField]:
        return [self["contact_name"], self["contact_phone"], self["statement"]]
