"""REST API of the enterprise registry (/api/v1/enterprises/…, /api/v1/feeds/<source>/records/ and
/api/v1/feeds/<source>/batches/<id>/). Thin views."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.http import Http404
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import permissions, serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from matching.core.registry import FactSpec, ValueType, stored_facts
from matching.core.vocabulary import DEPARTMENT_SOURCES, SELF_DECLARED, SOURCES
from portal.accounts.authentication import DepartmentApiKeyAuthentication
from portal.accounts.models import DepartmentApiKey, User
from portal.accounts.roles import Role, has_role, is_staff_user
from portal.api.exceptions import ApplicationError
from portal.api.pagination import PAGE_PARAMETERS, PagePagination, paginated
from portal.api.serializers import StrictInputSerializer

from . import selectors, services
from .facts import source_name
from .models import FACT_FIELDS, SOURCE_CHOICES, Enterprise, FeedImport, Qualification, QualificationKind, Site, Size

if TYPE_CHECKING:
    from portal.accounts.requests import AuthenticatedRequest


# --- Permissions ----------------------------------------------------------------------------------


def can_edit(user: User, enterprise: Enterprise) -> bool:
    """Data officers edit any enterprise; an enterprise user edits their own (as self-declared data)."""
    if has_role(user, Role.DATA_OFFICER):
        return True
    return getattr(user, "enterprise_id", None) == enterprise.pk and not is_staff_user(user)


def write_source(user: User, requested: str | None, *, default: str | None = None) -> str:
    """The source a write is recorded under: enterprise users always self-declare; staff name a department."""
    if has_role(user, Role.DATA_OFFICER):
        source = requested or default
        if not source:
            raise ApplicationError("请选择数据来源部门", code="required", field="source")
        if source not in DEPARTMENT_SOURCES:
            raise ApplicationError("数据专员录入的数据须注明来源部门", code="invalid_source", field="source")
        return source
    if requested and requested != SELF_DECLARED:
        raise ApplicationError("企业用户填报的信息只能是“企业自行填报”", code="source_not_allowed", field="source")
    return SELF_DECLARED


# --- Serializers ----------------------------------------------------------------------------------


def _provenance(enterprise: Enterprise) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, entry in (enterprise.provenance or {}).items():
        out[key] = {
            "source": entry["source"],
            "source_display": SOURCES.get(entry["source"], entry["source"]),
            "as_of": entry.get("as_of"),
            "verified": entry["source"] in DEPARTMENT_SOURCES,
        }
    return out


class EnterpriseListOutput(serializers.ModelSerializer):
    industry_name = serializers.CharField(read_only=True)
    size_display = serializers.CharField(source="get_size_display", read_only=True)

    class Meta:
        model = Enterprise
        fields = (
            "credit_code",
            "name",
            "industry_code",
            "industry_name",
            "size",
            "size_display",
            "employees",
            "revenue",
            "above_designated_size",
            "updated_at",
        )


class EnterpriseDetailOutput(serializers.ModelSerializer):
    industry_name = serializers.CharField(read_only=True)
    size_display = serializers.CharField(source="get_size_display", read_only=True)
    tax_credit_rating_display = serializers.CharField(source="get_tax_credit_rating_display", read_only=True)
    provenance = serializers.SerializerMethodField()

    class Meta:
        model = Enterprise
        fields = (
            "credit_code",
            "name",
            *FACT_FIELDS,
            "industry_name",
            "tax_credit_rating_display",
            "size",
            "size_display",
            "size_basis",
            "provenance",
            "created_at",
            "updated_at",
        )

    def get_provenance(self, obj: Enterprise) -> dict[str, Any]:
        """Per fact: source code and name, the date it was true, and whether a department verified it."""
        return _provenance(obj)


def fact_input_field(spec: FactSpec) -> serializers.Field:
    """The API input for a stored fact, from its definition (value type and column bounds)."""
    stored = spec.stored
    assert stored is not None
    if spec.profile_key == "established_on":
        return serializers.DateField(required=False)
    if spec.type is ValueType.INTEGER:
        return serializers.IntegerField(required=False, min_value=0)
    if spec.type is ValueType.NUMBER:
        bounds: dict[str, Any] = {"min_value": 0}
        if stored.maximum is not None:
            bounds["max_value"] = stored.maximum
        return serializers.DecimalField(
            required=False, max_digits=stored.digits, decimal_places=stored.places, **bounds
        )
    if spec.type is ValueType.BOOLEAN:
        return serializers.BooleanField(required=False)
    if spec.type is ValueType.COUNTRY:
        return serializers.CharField(required=False, max_length=stored.input_length, allow_blank=False)
    if spec.type in (ValueType.INDUSTRY, ValueType.CHOICE):
        return serializers.CharField(required=False, max_length=stored.input_length)
    raise TypeError(f"no API input for {spec.name} ({spec.type})")


class FactsInput(StrictInputSerializer):
    """Fact values (one input per stored registry fact, see `fact_input_field`), their source and date."""

    name = serializers.CharField(required=False, max_length=200)
    # drf-stubs: a field named "source" shadows Field.source (DRF keeps declared fields apart)
    source = serializers.ChoiceField(required=False, choices=SOURCE_CHOICES)  # type: ignore[assignment]
    as_of = serializers.DateField(required=False)

    def get_fields(self) -> dict[str, serializers.Field]:
        facts = {spec.profile_key: fact_input_field(spec) for spec in stored_facts()}
        return {**facts, **super().get_fields()}

    def facts(self) -> dict[str, Any]:
        return {k: v for k, v in self.validated_data.items() if k not in ("source", "as_of")}


class EnterpriseCreateInput(FactsInput):
    credit_code = serializers.CharField(max_length=40)
    name = serializers.CharField(max_length=200)

    def facts(self) -> dict[str, Any]:
        return {k: v for k, v in super().facts().items() if k not in ("credit_code", "name")}


class SiteOutput(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    township = serializers.SerializerMethodField()
    zone = serializers.SerializerMethodField()
    parks = serializers.SerializerMethodField()
    verified = serializers.SerializerMethodField()

    class Meta:
        model = Site
        fields = (
            "id",
            "kind",
            "kind_display",
            "address",
            "township",
            "zone",
            "parks",
            "source",
            "filed_at",
            "verified",
        )

    def get_township(self, obj: Site) -> dict[str, str]:
        return {"code": obj.township.code, "name": obj.township.name}

    def get_zone(self, obj: Site) -> dict[str, str] | None:
        zone = obj.township.zone
        return {"code": zone.code, "name": zone.name} if zone else None

    def get_parks(self, obj: Site) -> list[dict[str, str]]:
        return [{"code": p.code, "name": p.name} for p in obj.parks.all()]

    def get_verified(self, obj: Site) -> bool:
        return obj.source in DEPARTMENT_SOURCES


class SiteInput(StrictInputSerializer):
    address = serializers.CharField(max_length=300)
    township = serializers.CharField(max_length=20, help_text="9位统计用区划代码，如320505002（狮山街道）")
    parks = serializers.ListField(child=serializers.CharField(max_length=40), required=False, default=list)
    kind = serializers.ChoiceField(choices=Site.Kind.choices, required=False, default=Site.Kind.OPERATING)


class QualificationOutput(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    source_display = serializers.CharField(source="get_source_display", read_only=True)
    verified = serializers.BooleanField(read_only=True)
    valid_today = serializers.SerializerMethodField()

    class Meta:
        model = Qualification
        fields = (
            "id",
            "kind",
            "kind_display",
            "certificate_no",
            "valid_from",
            "valid_to",
            "valid_today",
            "source",
            "source_display",
            "as_of",
            "verified",
        )

    def get_valid_today(self, obj: Qualification) -> bool:
        from django.utils import timezone

        return obj.valid_on(timezone.localdate())


class QualificationInput(StrictInputSerializer):
    kind = serializers.ChoiceField(choices=QualificationKind.choices)
    certificate_no = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    valid_from = serializers.DateField()
    valid_to = serializers.DateField(required=False, allow_null=True, default=None)
    # drf-stubs: a field named "source" shadows Field.source (DRF keeps declared fields apart)
    source = serializers.ChoiceField(required=False, choices=SOURCE_CHOICES)  # type: ignore[assignment]
    as_of = serializers.DateField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("valid_to") and attrs["valid_to"] < attrs["valid_from"]:
            raise serializers.ValidationError(
                {"valid_to": [serializers.ErrorDetail("有效期止不能早于有效期起", code="before_valid_from")]}
            )
        return attrs


class QualificationUpdateInput(StrictInputSerializer):
    """A correction of a self-declared qualification; fields left out keep their value."""

    certificate_no = serializers.CharField(max_length=64, required=False, allow_blank=True)
    valid_from = serializers.DateField(required=False)
    valid_to = serializers.DateField(required=False, allow_null=True)


class ChangeOutput(serializers.Serializer):
    id = serializers.IntegerField()
    changes = serializers.JSONField(help_text='[{"field", "old", "new"}, …]')
    summary = serializers.CharField()
    # drf-stubs: a field named "source" shadows Field.source (DRF keeps declared fields apart)
    source = serializers.CharField()  # type: ignore[assignment]
    source_display = serializers.SerializerMethodField()
    as_of = serializers.DateField()
    changed_at = serializers.DateTimeField()
    who = serializers.CharField()

    def get_source_display(self, obj: Any) -> str:
        return source_name(obj.source)


# --- Views ----------------------------------------------------------------------------------------


def _paginated(request: Request, view: APIView, rows: QuerySet[Any], output: type[serializers.Serializer]) -> Response:
    paginator = PagePagination()
    page = paginator.paginate_queryset(rows, request, view=view)
    return paginator.get_paginated_response(output(page, many=True).data)


class EnterpriseListApi(APIView):
    """企业库. Staff see every enterprise; an enterprise user sees only their own (404 for any other)."""

    @extend_schema(
        operation_id="v1_enterprises_list",
        parameters=[
            OpenApiParameter("industry", str, description="行业代码前缀：门类字母或2–4位代码，可用逗号分隔多个"),
            OpenApiParameter("size", str, many=True, enum=Size.values, description="企业规模，可重复"),
            OpenApiParameter("zone", str, description="功能区代码（任一经营场所在该功能区）"),
            OpenApiParameter("park", str, description="特色园区代码"),
            OpenApiParameter("township", str, description="街道（镇）区划代码"),
            OpenApiParameter(
                "qualification", str, many=True, enum=QualificationKind.values, description="今日有效的资质，可重复"
            ),
            OpenApiParameter("above_designated_size", bool, description="是否规上企业"),
            OpenApiParameter("q", str, description="企业名称或信用代码"),
            *PAGE_PARAMETERS,
        ],
        responses=paginated(EnterpriseListOutput),
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        rows = selectors.enterprise_list(user=request.user, filters=request.query_params)
        return _paginated(request, self, rows, EnterpriseListOutput)

    @extend_schema(
        operation_id="v1_enterprises_create", request=EnterpriseCreateInput, responses={201: EnterpriseDetailOutput}
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        if not has_role(request.user, Role.DATA_OFFICER):
            raise ApplicationError("仅数据专员可以登记企业", code="permission_denied", http_status=403)
        data = EnterpriseCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        source = write_source(request.user, data.validated_data.get("source"), default="market_regulation")
        enterprise = services.enterprise_create(
            credit_code=data.validated_data["credit_code"],
            name=data.validated_data["name"],
            facts=data.facts(),
            source=source,
            as_of=data.validated_data.get("as_of"),
            by=request.user,
        )
        return Response(EnterpriseDetailOutput(enterprise).data, status=status.HTTP_201_CREATED)


class _EnterpriseApi(APIView):
    """Views under /enterprises/<credit_code>/: the enterprise is resolved (and scoped: 404 for another's) first."""

    request: AuthenticatedRequest  # the permission classes let only signed-in users through

    def enterprise(self) -> Enterprise:
        if not hasattr(self, "_enterprise"):
            self._enterprise = selectors.enterprise_get_for_user(
                user=self.request.user, credit_code=self.kwargs["credit_code"]
            )
        return self._enterprise

    def check_can_edit(self) -> None:
        if not can_edit(self.request.user, self.enterprise()):
            raise ApplicationError("没有修改该企业信息的权限", code="permission_denied", http_status=403)


class EnterpriseDetailApi(_EnterpriseApi):
    """企业库. Staff see every enterprise; an enterprise user sees only their own (404 for any other)."""

    @extend_schema(operation_id="v1_enterprises_retrieve", responses=EnterpriseDetailOutput)
    def get(self, request: AuthenticatedRequest, credit_code: str) -> Response:
        return Response(EnterpriseDetailOutput(self.enterprise()).data)

    @extend_schema(operation_id="v1_enterprises_partial_update", request=FactsInput, responses=EnterpriseDetailOutput)
    def patch(self, request: AuthenticatedRequest, credit_code: str) -> Response:
        enterprise = self.enterprise()
        self.check_can_edit()
        data = FactsInput(data=request.data)
        data.is_valid(raise_exception=True)
        source = write_source(request.user, data.validated_data.get("source"))
        services.enterprise_update_facts(
            enterprise=enterprise,
            facts=data.facts(),
            source=source,
            as_of=data.validated_data.get("as_of"),
            by=request.user,
        )
        return Response(EnterpriseDetailOutput(enterprise).data)


class EnterpriseHistoryApi(_EnterpriseApi):
    @extend_schema(
        operation_id="v1_enterprises_history_list", parameters=PAGE_PARAMETERS, responses=paginated(ChangeOutput)
    )
    def get(self, request: AuthenticatedRequest, credit_code: str) -> Response:
        """Every accepted change: field, old and new value, source, date, who."""
        return _paginated(request, self, selectors.change_list(enterprise=self.enterprise()), ChangeOutput)


class SiteListApi(_EnterpriseApi):
    """一照多址: the enterprise's sites. Filing a site inside 320505 takes effect at once.

    The address text decides where the site is. Refusals (400, on `address` unless noted):
    `outside_jurisdiction` (elsewhere: a branch registration is needed there), `district_unclear` (only
    the city is named), `address_inconsistent`, `address_incomplete`, `township_mismatch` (on `township`:
    the address names another 街道/镇), `duplicate_address`, `registered_address_as_site`.
    """

    @extend_schema(operation_id="v1_enterprises_sites_list", responses=SiteOutput(many=True))
    def get(self, request: AuthenticatedRequest, credit_code: str) -> Response:
        return Response(SiteOutput(selectors.site_list(enterprise=self.enterprise()), many=True).data)

    @extend_schema(operation_id="v1_enterprises_sites_create", request=SiteInput, responses={201: SiteOutput})
    def post(self, request: AuthenticatedRequest, credit_code: str) -> Response:
        enterprise = self.enterprise()
        self.check_can_edit()
        data = SiteInput(data=request.data)
        data.is_valid(raise_exception=True)
        if data.validated_data["kind"] == Site.Kind.REGISTERED and not has_role(request.user, Role.DATA_OFFICER):
            raise ApplicationError("住所（注册地址）以登记机关数据为准", code="registered_address", field="kind")
        site = services.site_file(
            enterprise=enterprise,
            address=data.validated_data["address"],
            township_code=data.validated_data["township"],
            park_codes=data.validated_data["parks"],
            kind=data.validated_data["kind"],
            by=request.user,
        )
        return Response(SiteOutput(selectors.site_list(enterprise=enterprise).get(pk=site.pk)).data, status=201)


class SiteDetailApi(_EnterpriseApi):
    """One site (一照多址) of the enterprise; withdrawing it takes effect at once."""

    @extend_schema(operation_id="v1_enterprises_sites_retrieve", responses=SiteOutput)
    def get(self, request: AuthenticatedRequest, credit_code: str, pk: str) -> Response:
        return Response(SiteOutput(self._site(pk)).data)

    @extend_schema(operation_id="v1_enterprises_sites_destroy", responses={204: None})
    def delete(self, request: AuthenticatedRequest, credit_code: str, pk: str) -> Response:
        site = self._site(pk)
        self.check_can_edit()
        services.site_withdraw(site=site, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _site(self, pk: str) -> Site:
        site = selectors.site_list(enterprise=self.enterprise()).filter(pk=pk).first() if pk.isdigit() else None
        if site is None:
            raise Http404
        return site


class QualificationListApi(_EnterpriseApi):
    """The enterprise's qualifications (资质); a qualification counts only inside its validity."""

    @extend_schema(operation_id="v1_enterprises_qualifications_list", responses=QualificationOutput(many=True))
    def get(self, request: AuthenticatedRequest, credit_code: str) -> Response:
        return Response(QualificationOutput(selectors.qualification_list(enterprise=self.enterprise()), many=True).data)

    @extend_schema(
        operation_id="v1_enterprises_qualifications_create",
        request=QualificationInput,
        responses={201: QualificationOutput},
    )
    def post(self, request: AuthenticatedRequest, credit_code: str) -> Response:
        enterprise = self.enterprise()
        self.check_can_edit()
        data = QualificationInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        q = services.qualification_create(
            enterprise=enterprise,
            kind=v["kind"],
            certificate_no=v["certificate_no"],
            valid_from=v["valid_from"],
            valid_to=v["valid_to"],
            source=write_source(request.user, v.get("source")),
            as_of=v.get("as_of"),
            by=request.user,
        )
        return Response(QualificationOutput(q).data, status=status.HTTP_201_CREATED)


class QualificationDetailApi(_EnterpriseApi):
    """One qualification (资质) of the enterprise; a qualification counts only inside its validity."""

    @extend_schema(operation_id="v1_enterprises_qualifications_retrieve", responses=QualificationOutput)
    def get(self, request: AuthenticatedRequest, credit_code: str, pk: str) -> Response:
        return Response(QualificationOutput(self._qualification(pk)).data)

    @extend_schema(
        operation_id="v1_enterprises_qualifications_partial_update",
        request=QualificationUpdateInput,
        responses=QualificationOutput,
    )
    def patch(self, request: AuthenticatedRequest, credit_code: str, pk: str) -> Response:
        """Correct a self-declared qualification (a department-verified one: 400 `verified_fact`)."""
        q = self._qualification(pk)
        self.check_can_edit()
        data = QualificationUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        q = services.qualification_update(
            qualification=q,
            valid_from=v.get("valid_from", q.valid_from),
            valid_to=v.get("valid_to", q.valid_to),
            certificate_no=v.get("certificate_no", q.certificate_no),
            by=request.user,
        )
        return Response(QualificationOutput(q).data)

    @extend_schema(operation_id="v1_enterprises_qualifications_destroy", responses={204: None})
    def delete(self, request: AuthenticatedRequest, credit_code: str, pk: str) -> Response:
        q = self._qualification(pk)
        self.check_can_edit()
        source = q.source if has_role(request.user, Role.DATA_OFFICER) else SELF_DECLARED
        services.qualification_delete(qualification=q, by=request.user, source=source)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _qualification(self, pk: str) -> Qualification:
        q = selectors.qualification_list(enterprise=self.enterprise()).filter(pk=pk).first() if pk.isdigit() else None
        if q is None:
            raise Http404
        return q


class HasDepartmentKey(permissions.BasePermission):
    message = "接口密钥不属于该部门"

    def has_permission(self, request: Request, view: Any) -> bool:
        key = request.auth
        if not isinstance(key, DepartmentApiKey):
            return False
        return key.source == view.kwargs.get("source")


_FEED_RECORD_LISTS = {
    "accepted": "接受的记录：index（在批次中的序号，从0起）、credit_code、status（created/updated/confirmed/"
    "unchanged）、changed（有变更的字段）、stale（数据日期较旧而未采用的字段）",
    "rejected": "拒绝的记录：index、credit_code 与 errors（每项 field、code、message）",
    "duplicates": "同一批次中重复提供同一企业同一项的记录（以后一条为准）",
}

FeedBatchOutput = inline_serializer(
    "FeedBatch",
    {
        "import_id": serializers.IntegerField(help_text="批次编号"),
        "source": serializers.CharField(help_text="数据来源部门"),
        "status": serializers.ChoiceField(
            choices=FeedImport.Status.choices, help_text="queued 排队中、running 进行中、done 已完成、failed 失败"
        ),
        "status_url": serializers.CharField(help_text="查询处理进度与结果的地址"),
        "received_at": serializers.DateTimeField(),
        "started_at": serializers.DateTimeField(allow_null=True),
        "finished_at": serializers.DateTimeField(allow_null=True),
        "total": serializers.IntegerField(help_text="记录数"),
        "processed": serializers.IntegerField(help_text="已处理的记录数"),
        "percent": serializers.IntegerField(help_text="进度（百分比）"),
        "accepted_count": serializers.IntegerField(),
        "rejected_count": serializers.IntegerField(),
        "changed_count": serializers.IntegerField(),
        "created_count": serializers.IntegerField(),
        "error": serializers.CharField(allow_blank=True, help_text="整批失败的原因（status 为 failed 时）"),
        **{
            name: serializers.ListField(child=serializers.DictField(), help_text=f"{text}；处理完成前为空")
            for name, text in _FEED_RECORD_LISTS.items()
        },
    },
)


def feed_batch_body(request: Request, feed_import: FeedImport) -> dict[str, Any]:
    """An API batch's status, counts and (once done) per-record results, as FeedBatchOutput declares."""
    results = feed_import.record_results or {}
    path = reverse("feed-batch-status", kwargs={"source": feed_import.source, "import_id": feed_import.pk})
    return {
        "import_id": feed_import.pk,
        "source": feed_import.source,
        "status": feed_import.status,
        "status_url": request.build_absolute_uri(path),
        "received_at": feed_import.received_at,
        "started_at": feed_import.started_at,
        "finished_at": feed_import.finished_at,
        "total": feed_import.total,
        "processed": feed_import.processed,
        "percent": feed_import.percent,
        "accepted_count": feed_import.accepted,
        "rejected_count": feed_import.rejected,
        "changed_count": feed_import.changed,
        "created_count": feed_import.created,
        "error": feed_import.error,
        **{name: results.get(name, []) for name in _FEED_RECORD_LISTS},
    }


def _department_source(kwargs: dict[str, Any]) -> None:
    if kwargs.get("source") not in DEPARTMENT_SOURCES:
        raise Http404


class FeedRecordsView(APIView):
    """部门信息共享: a department pushes records keyed by credit code (header `Authorization: Api-Key <key>`).

    Body: `{"as_of": "YYYY-MM-DD", "records": [{"credit_code": "...", "as_of": "YYYY-MM-DD", "<field>": value, ...}]}`;
    a record's as_of (数据日期) wins over the batch's, and the batch's over the day it arrives.
    The request checks only the envelope (key, department, list, size, batch date); the batch is stored
    and applied by a worker, never in the request. The answer is 202 with the batch's id and its
    `status_url`, where each record's result (accepted, or rejected with reasons) is read once done.
    """

    authentication_classes = [DepartmentApiKeyAuthentication]
    permission_classes = [HasDepartmentKey]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        _department_source(kwargs)
        super().initial(request, *args, **kwargs)

    @extend_schema(
        request=inline_serializer("FeedInput", {"records": serializers.ListField(child=serializers.DictField())}),
        responses={202: FeedBatchOutput},
    )
    def post(self, request: Request, source: str) -> Response:
        api_key = request.auth
        assert isinstance(api_key, DepartmentApiKey)  # DepartmentApiKeyAuthentication and HasDepartmentKey
        feed_import = services.feed_batch_submit(api_key=api_key, source=source, body=request.data)
        # Read again: with tasks run inline (`make run` without Redis) the batch is already done.
        feed_import.refresh_from_db()
        body = feed_batch_body(request, feed_import)
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["status_url"]})


class HasDepartmentKeyOrLogin(permissions.BasePermission):
    """A department key, or a signed-in user; what they may see is the selector's to scope (else 404)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.auth, DepartmentApiKey) or bool(request.user and request.user.is_authenticated)


class FeedBatchStatusView(APIView):
    """The status of an API batch, its counts and, once done, each record's result (as the batch's 202 named it).

    Readable with a key of the batch's department or by a data officer (数据专员); 404 for anyone else.
    """

    authentication_classes = [DepartmentApiKeyAuthentication, SessionAuthentication]
    permission_classes = [HasDepartmentKeyOrLogin]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        _department_source(kwargs)
        super().initial(request, *args, **kwargs)

    @extend_schema(responses=FeedBatchOutput)
    def get(self, request: Request, source: str, import_id: int) -> Response:
        key = request.auth if isinstance(request.auth, DepartmentApiKey) else None
        user = request.user if key is None and isinstance(request.user, User) else None
        feed_import = selectors.feed_api_import_get(source=source, import_id=import_id, api_key=key, user=user)
        return Response(feed_batch_body(request, feed_import))
