"""WeCom members over HTTP: filters that page in SQL."""

from __future__ import annotations

from scrm.staff.service import upsert_member
from tests.conftest import Persona


def test_staff_filter_by_department_is_exact_and_paged_in_sql(
    client, owner: Persona, committing_factory
) -> None:
    with committing_factory.begin() as session:
        for userid, departments in (("a", [1]), ("b", [13, 3]), ("c", [31]), ("d", [2, 3]), ("e", [3])):
            upsert_member(
                session,
                tenant_id=owner.tenant_id,
                connection_id=7,
                member={"userid": userid, "name": userid, "department": departments},
            )
    first = client.get("/api/v1/staff?department=3&limit=2", headers=owner.headers).json()
    rest = client.get(
        f"/api/v1/staff?department=3&limit=2&cursor={first['next_cursor']}", headers=owner.headers
    ).json()
    assert sorted(m["userid"] for m in first["items"] + rest["items"]) == ["b", "d", "e"]
    assert len(first["items"]) == 2
