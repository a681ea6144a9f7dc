from tests.support import registration


def test_register_and_read_back(api):
    response = api.post("/api/v1/organizations", registration(1))
    assert response.status_code == 201, response.json
    assert response.headers["ETag"] == '"1"'
    read = api.get(api.org(1))
    assert read.status_code == 200
    assert read.json["name"] == registration(1)["name"]
