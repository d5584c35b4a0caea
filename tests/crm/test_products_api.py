from tests.crm import factories


def test_create_list_filter_and_sort(manager):
    factories.product(manager, sku="HP-1", name="Studio Headphones", price="99.00")
    factories.product(manager, sku="GR-1", name="Coffee Grinder", category="kitchen",
                      price="49.50")
    factories.product(manager, sku="OLD-1", name="Old Cable", active=False, price="5.00")
    page = manager.get("/api/v1/products", params={"sort": "-price"}).json()
    assert [p["sku"] for p in page["items"]] == ["HP-1", "GR-1", "OLD-1"]
    assert manager.get("/api/v1/products", params={"category": "kitchen"}).json()["total"] == 1
    assert manager.get("/api/v1/products", params={"active": False}).json()["total"] == 1
    found = manager.get("/api/v1/products", params={"q": "grind"}).json()["items"]
    assert found[0]["sku"] == "GR-1"
    assert manager.get("/api/v1/products", params={"q": "hp-"}).json()["total"] == 1


def test_duplicate_sku_and_bad_price(manager):
    factories.product(manager, sku="DUP-1")
    assert manager.post("/api/v1/products", json={"sku": "DUP-1", "name": "x", "category": "c",
                                                  "price": "1"}).status_code == 409
    bad = manager.post("/api/v1/products", json={"sku": "N-1", "name": "x", "category": "c",
                                                 "price": "-1"})
    assert bad.status_code == 422


def test_update_with_etag(manager):
    pid = factories.product(manager)["id"]
    ok = manager.patch(f"/api/v1/products/{pid}", json={"price": "25.00"},
                       headers={"If-Match": '"1"'})
    assert ok.status_code == 200 and ok.json()["price"] == "25.00"
    stale = manager.patch(f"/api/v1/products/{pid}", json={"price": "1.00"},
                          headers={"If-Match": '"1"'})
    assert stale.status_code == 409


def test_delete_unordered_204_but_ordered_409(manager, agent):
    lonely = factories.product(manager)
    assert manager.delete(f"/api/v1/products/{lonely['id']}").status_code == 204
    assert manager.get(f"/api/v1/products/{lonely['id']}").status_code == 404
    sold = factories.product(manager)
    cust = factories.customer(agent)
    factories.order(agent, cust["id"], [{"sku": sold["sku"], "quantity": 1}])
    resp = manager.delete(f"/api/v1/products/{sold['id']}")
    assert resp.status_code == 409 and resp.json()["error"]["code"] == "conflict"
    assert manager.get(f"/api/v1/products/{sold['id']}").status_code == 200


def test_agents_read_but_do_not_edit_the_catalogue(agent, manager):
    factories.product(manager)
    assert agent.get("/api/v1/products").status_code == 200
    assert agent.post("/api/v1/products", json={"sku": "A-1", "name": "x", "category": "c",
                                                "price": "1"}).status_code == 403
