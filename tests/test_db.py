"""portal.db: the `any_of` lookup gives what `__in` gives, with the ids as one array parameter; the prepared cursor;
`ahead` runs the next step on a helper connection outside a transaction (real PostgreSQL)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.enterprises.models import Enterprise, Qualification
from tests.enterprises.factories import EnterpriseFactory, QualificationFactory
from tests.support.services import database_connections, database_connections_settled, threads_named

pytestmark = pytest.mark.django_db


def test_any_of_selects_what_in_selects_on_keys_and_foreign_keys() -> None:
    firms = [EnterpriseFactory() for _ in range(4)]
    QualificationFactory(enterprise=firms[0])
    QualificationFactory(enterprise=firms[2])
    wanted = [firms[0].pk, firms[1].pk, firms[2].pk, 10**12]  # one id that exists nowhere

    assert set(Enterprise.objects.filter(pk__any_of=wanted).values_list("pk", flat=True)) == {f.pk for f in firms[:3]}
    assert sorted(Qualification.objects.filter(enterprise_id__any_of=wanted).values_list("pk", flat=True)) == sorted(
        Qualification.objects.filter(enterprise_id__in=wanted).values_list("pk", flat=True)
    )
    assert not Enterprise.objects.filter(pk__any_of=[]).exists()
    # Combined with other conditions, the same rows as `__in`.
    assert Enterprise.objects.filter(pk__any_of=wanted).exclude(pk=firms[0].pk).count() == 2


def test_any_of_sends_the_ids_as_one_parameter_on_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the array parameter is PostgreSQL's")
    ids = list(range(1, 5001))
    with CaptureQueriesContext(connection) as captured:
        list(Enterprise.objects.filter(pk__any_of=ids).values_list("pk", flat=True))
    (sql,) = [q["sql"] for q in captured.captured_queries]
    # One array literal cast to bigint[], not 5,000 placeholders filled in one by one.
    assert "= ANY(" in sql and "::bigint[]" in sql and " IN (" not in sql


def test_a_prepared_cursor_prepares_its_statement_and_leaves_the_connection_as_django_has_it() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    from portal.db import bound_cursor, prepared_cursor

    firm = EnterpriseFactory()
    statement = "SELECT credit_code FROM enterprises_enterprise WHERE id = %(id)s"
    with CaptureQueriesContext(connection) as captured:
        for _ in range(3):
            with prepared_cursor() as cursor:
                cursor.execute(statement, {"id": firm.pk})
                assert cursor.fetchone() == (firm.credit_code,)
    # Django's query log still shows each run's statement (the driver sends a prepared one's name only).
    assert [q["sql"] for q in captured.captured_queries] == [
        "SELECT credit_code FROM enterprises_enterprise WHERE id = $1"
    ] * 3
    with bound_cursor() as cursor:  # any other statement stays unprepared
        for _ in range(10):
            cursor.execute("SELECT name FROM enterprises_enterprise WHERE id = %(id)s", {"id": firm.pk})
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert len(prepared) == 1 and "SELECT credit_code" in prepared[0]
    assert connection.connection.prepare_threshold is None


def test_ahead_inside_a_transaction_runs_each_step_in_turn_on_this_thread() -> None:
    import threading

    from portal.db import ahead

    firm = EnterpriseFactory()  # not committed: only this connection sees it
    seen: list[tuple[int, int, bool]] = []

    def step(at: int) -> int:
        seen.append((at, threading.get_ident(), Enterprise.objects.filter(pk=firm.pk).exists()))
        return at * 10

    with ahead(3, step, name="db-ahead-test") as results:
        assert list(results) == [0, 10, 20]
    assert seen == [(at, threading.get_ident(), True) for at in range(3)]


@pytest.mark.django_db(transaction=True)
def test_ahead_outside_a_transaction_runs_the_next_step_on_a_helper_and_closes_its_connection() -> None:
    import threading

    from portal.db import ahead

    if connection.vendor != "postgresql":
        pytest.skip("a second connection to the test database: PostgreSQL's")
    firm = EnterpriseFactory()
    before = database_connections()
    threads: list[int] = []
    started = [threading.Event() for _ in range(3)]

    def step(at: int) -> int:
        threads.append(threading.get_ident())
        started[at].set()
        return Enterprise.objects.filter(pk=firm.pk).count() + at

    with ahead(3, step, name="db-ahead-test") as results:
        got = []
        for at, result in enumerate(results):
            # While the caller still holds this result, the next step is already running (in turn, it could
            # only start after the caller asked for it: the wait would time out).
            assert at + 1 == 3 or started[at + 1].wait(timeout=10)
            got.append(result)
    assert got == [1, 2, 3]
    assert len(set(threads)) == 1 and threading.get_ident() not in threads
    assert database_connections_settled(before) == before and not threads_named("db-ahead-test")


@pytest.mark.django_db(transaction=True)
def test_a_failing_step_reaches_the_caller_and_the_helper_is_still_closed() -> None:
    from portal.db import ahead

    if connection.vendor != "postgresql":
        pytest.skip("a second connection to the test database: PostgreSQL's")
    before = database_connections()

    def step(at: int) -> int:
        if at == 1:
            raise ValueError("step 1 failed")
        return Enterprise.objects.count()

    with pytest.raises(ValueError, match="step 1 failed"), ahead(3, step, name="db-ahead-test") as results:
        list(results)
    assert database_connections_settled(before) == before and not threads_named("db-ahead-test")
