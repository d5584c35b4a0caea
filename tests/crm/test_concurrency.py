"""Two writers of one record: the second is refused, never silently applied."""

import threading

import pytest
from sqlalchemy.orm.exc import StaleDataError

from crm_backend.core import db
from crm_backend.customers import service


def test_second_of_two_concurrent_sessions_is_refused(session):
    customer = service.create(session=session, data={"name": "A", "email": "a@example.com"})
    session.commit()
    maker = db.get_sessionmaker()
    with maker() as first, maker() as second:
        a = first.get(type(customer), customer.id)
        b = second.get(type(customer), customer.id)
        a.name = "written by first"
        first.commit()
        b.name = "written by second"
        with pytest.raises(StaleDataError):
            second.commit()
    session.expire_all()
    assert session.get(type(customer), customer.id).name == "written by first"


def test_racing_patches_with_the_same_etag_let_exactly_one_win(agent, app):
    from fastapi.testclient import TestClient

    cid = agent.post("/api/v1/customers",
                     json={"name": "Race", "email": "race@example.com"}).json()["id"]
    barrier = threading.Barrier(4)
    results = []

    def patch(n):
        client = TestClient(app, headers=dict(agent.headers))
        barrier.wait()
        resp = client.patch(f"/api/v1/customers/{cid}", json={"name": f"writer {n}"},
                            headers={"If-Match": '"1"'})
        results.append(resp.status_code)

    threads = [threading.Thread(target=patch, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200, 409, 409, 409]
    final = agent.get(f"/api/v1/customers/{cid}")
    assert final.headers["ETag"] == '"2"'
