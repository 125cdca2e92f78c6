"""The 数据纠错 / 申请核验 form: one input for the fact, chosen by its registry definition (its widget), a
statement and evidence files. It lays out and parses only: portal.corrections.services reads the value
with the fact's own definition and bounds and refuses with the same messages as the API."""

from __future__ import annotations

from typing import Any

from django import forms

from matching.core.reading import Widget
from matching.core.registry import FactSpec, ValueType, format_number
from matching.core.vocabulary import COUNTRIES
from portal.applications.files import ACCEPT_ATTRIBUTE, ALLOWED_LABEL, human_size, max_bytes
from portal.corrections.services import MAX_EVIDENCE_FILES

from .application_forms import MaterialFilesField, MultipleFileInput
from .forms import resolve_industry


def value_field(spec: FactSpec) -> forms.Field:
    """The input for the value the enterprise believes right, from the fact's definition."""
    label = f"正确的{spec.title}"
    widget = spec.input_widget
    if widget is Widget.INDUSTRY:
        return forms.CharField(
            label=label, max_length=120, help_text="GB/T 4754-2017 4位小类代码或行业名称，如 6513", required=False
        )
    if widget is Widget.DATE:
        return forms.CharField(
            label=f"正确的{spec.ask}",
            required=False,
            max_length=20,
            widget=forms.DateInput(attrs={"type": "date"}),
            help_text="如 2019-03-01",
        )
    if widget is Widget.NUMBER:
        integer = spec.type is ValueType.INTEGER
        example = format_number(spec.example) if spec.example is not None else "120"
        # Text, not <input type=number>: every typed text reaches the fact's own reading and its message.
        return forms.CharField(
            label=label,
            required=False,
            max_length=64,
            help_text=f"填写数字（如 {example}）",
            widget=forms.TextInput(attrs={"inputmode": "numeric" if integer else "decimal", "autocomplete": "off"}),
        )
    if widget is Widget.YES_NO:
        choices = [("", "请选择"), ("true", spec.phrases.get("true", "是")), ("false", spec.phrases.get("false", "否"))]
        return forms.ChoiceField(label=f"正确的情况：{spec.ask}", required=False, choices=choices)
    if spec.type is ValueType.COUNTRY:
        return forms.ChoiceField(
            label=label, required=False, choices=[("", "请选择"), ("none", "无外资"), *COUNTRIES.items()]
        )
    return forms.ChoiceField(label=label, required=False, choices=[("", "请选择"), *spec.choices.items()])


class CorrectionForm(forms.Form):
    statement = forms.CharField(
        label="情况说明",
        required=False,
        max_length=2000,
        help_text="说明数据哪里有误、正确数据的出处（选填，最多2000字）",
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, spec: FactSpec, verification: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.spec = spec
        self.verification = verification
        fields: dict[str, forms.Field] = {}
        if not verification:
            fields["value"] = value_field(spec)
        rules = f"支持 {ALLOWED_LABEL}，单个文件不超过 {human_size(max_bytes())}，最多 {MAX_EVIDENCE_FILES} 个文件。"
        attrs = {"accept": ACCEPT_ATTRIBUTE}
        fields["evidence"] = MaterialFilesField(
            label="证明材料" + ("（选填）" if verification else ""),
            required=False,
            help_text=("如部门出具的证明、报表、证书。" if not verification else "可附上相关证明，便于部门核验。")
            + rules,
            widget=MultipleFileInput(attrs=attrs),
        )
        fields["statement"] = self.fields.pop("statement")
        self.fields.update(fields)

    def clean_value(self) -> Any:
        raw = self.cleaned_data.get("value", "")
        if self.spec.type is ValueType.INDUSTRY and raw:
            return resolve_industry(raw, classes_only=True)
        if self.spec.type is ValueType.BOOLEAN and raw in ("true", "false"):
            return raw == "true"
        return raw
