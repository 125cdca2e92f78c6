"""Django's ModelBackend, with the user read together with what authorization asks on every request.

Every signed-in request reads its user again (Django's `get_user`), so a deactivated user, a changed
password or a removed membership takes effect on the next request. Authorization then asked two more
questions of the database, each a query of its own: does the user hold a staff role
(portal.accounts.roles), and is the enterprise named in the URL the user's own
(portal.enterprises.selectors.enterprise_id_for_user). Both answers come from the same rows as the
user, so they are read in the user's query — one indexed query instead of three, with no store kept
between requests: what the request sees is the database at the moment its user was read.

- "holds no role" is remembered as the user's (empty) roles, exactly as `roles_of` would have found;
  a user holding a role is left to `roles_of`, which reads them (staff are few; their requests are as before);
- the credit code of the user's enterprise is remembered with that enterprise's id (`own_enterprise`),
  so it is used only while the user still names that enterprise.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend as DjangoModelBackend
from django.db import connections, router
from django.db.models import Exists, F, OuterRef

from portal.db import prepared_cursor

from .roles import Role, remember_roles

if TYPE_CHECKING:
    from .models import User

# (enterprise id, credit code) of the user's enterprise, read with the user (see enterprise_code).
ENTERPRISE_CODE_ATTR = "_huiqi_enterprise_code"


def own_enterprise(user: Any) -> tuple[int, str] | None:
    """(id, credit code) of the user's enterprise as read with the user in this request, or None when
    it was not read so (then the caller asks the database). Only while `user.enterprise_id` is still
    the enterprise it was read for."""
    found: tuple[int, str] | None = getattr(user, ENTERPRISE_CODE_ATTR, None)
    if found is None or found[0] != getattr(user, "enterprise_id", None):
        return None
    return found


# An id no user has, compiled into the query in place of the real one (see _UserQuery).
_ID_MARK = -7_340_105_211


class _UserQuery:
    """The user's query compiled by the ORM once per process and database, then run as plain SQL.

    Compiling it (an annotated queryset) cost about ten times the round trip to PostgreSQL, on every
    request. The row becomes a user as the ORM's own iterator makes one (`Model.from_db`, the database's
    value converters), so the user is the same object `QuerySet.get` would give.
    """

    def __init__(self, alias: str) -> None:
        user_model = get_user_model()
        groups = user_model.groups.through.objects.filter(user_id=OuterRef("pk"), group__name__in=Role.values)
        queryset = (
            user_model._default_manager.using(alias)
            .filter(pk=_ID_MARK)
            .annotate(huiqi_enterprise_code=F("enterprise__credit_code"), huiqi_holds_role=Exists(groups))
        )
        self.query = queryset.query
        compiler = self.query.get_compiler(alias)
        sql, params = compiler.as_sql()
        self.sql, self.params = sql, tuple(params)
        self.id_at = list(params).index(_ID_MARK)
        self.expressions = [expression for expression, _, _ in compiler.select]
        assert compiler.klass_info is not None  # a model query
        fields = compiler.klass_info["select_fields"]
        self.model_columns = slice(fields[0], fields[-1] + 1)
        self.attnames = [self.expressions[i].target.attname for i in fields]
        self.code_at = compiler.annotation_col_map["huiqi_enterprise_code"]
        self.role_at = compiler.annotation_col_map["huiqi_holds_role"]

    def run(self, alias: str, user_id: Any) -> tuple[Any, str | None, bool] | None:
        """(user, its enterprise's credit code, whether it holds a staff role), or None."""
        user_model = get_user_model()
        params = list(self.params)
        params[self.id_at] = user_model._meta.pk.to_python(user_id)
        connection = connections[alias]
        # Prepared on PostgreSQL: asked on every signed-in request with only the id changing, its planning
        # cost several times its run.
        with prepared_cursor(alias) if connection.vendor == "postgresql" else connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            row = cursor.fetchone()
        if row is None:
            return None
        # The converters of the connection at hand (none on PostgreSQL for these columns; SQLite's dates).
        compiler = self.query.get_compiler(connection=connection)
        converters = compiler.get_converters(self.expressions)
        if converters:
            row = next(compiler.apply_converters([row], converters))
        user = user_model.from_db(alias, self.attnames, row[self.model_columns])
        return user, row[self.code_at], bool(row[self.role_at])


@functools.cache
def _user_query(alias: str) -> _UserQuery:
    return _UserQuery(alias)


class ModelBackend(DjangoModelBackend):
    def get_user(self, user_id: Any) -> User | None:
        alias = router.db_for_read(get_user_model())
        found = _user_query(alias).run(alias, user_id)
        if found is None:
            return None
        user, code, holds_role = found
        if not self.user_can_authenticate(user):
            return None
        if user.enterprise_id is not None and code is not None:
            setattr(user, ENTERPRISE_CODE_ATTR, (user.enterprise_id, code))
        if not holds_role:
            remember_roles(user, frozenset())
        return user
