"""The real label-studio-sdk 2.1.2 against LabelDesk: projects, users, versions, validation,
with a legacy token and with a personal access token; and the legacy `Client`."""

import warnings

import pytest

from datahelp import LABEL_CONFIG

label_studio_sdk = pytest.importorskip("label_studio_sdk")
from label_studio_sdk import LabelStudio  # noqa: E402
from label_studio_sdk.core.api_error import ApiError  # noqa: E402


@pytest.fixture
def server(make_live):
    return make_live(fsync=False)


def pat_for(server):
    response = server.api.post("/api/token")
    assert response.status_code == 201, response.text
    return response.json()["token"]


@pytest.fixture(params=["legacy-token", "pat"])
def client(request, server):
    key = server.token if request.param == "legacy-token" else pat_for(server)
    return LabelStudio(base_url=server.url, api_key=key)


def test_projects_crud(client, server):
    created = client.projects.create(title="SDK project", description="made by the SDK",
                                     label_config=LABEL_CONFIG)
    assert created.id and created.title == "SDK project"
    assert created.description == "made by the SDK"

    fetched = client.projects.get(created.id)
    assert fetched.title == "SDK project" and fetched.label_config == LABEL_CONFIG
    assert fetched.task_number == 0
    assert fetched.parsed_label_config["sentiment"]["labels"] == ["Pos", "Neg"]
    assert fetched.get_label_interface() is not None

    updated = client.projects.update(created.id, title="Renamed by SDK", color="#00AA00")
    assert updated.title == "Renamed by SDK" and updated.color == "#00AA00"
    assert client.projects.get(created.id).title == "Renamed by SDK"

    with pytest.raises(ApiError) as caught:
        client.projects.update(created.id, color="green")
    assert caught.value.status_code == 400

    client.projects.delete(created.id)
    with pytest.raises(ApiError) as caught:
        client.projects.get(created.id)
    assert caught.value.status_code == 404


def test_projects_list_pages_through_everything(client, server):
    ids = {client.projects.create(title=f"Paged {i:02d}").id for i in range(23)}
    listed = [project.id for project in client.projects.list(page_size=5)]
    assert len(listed) == len(set(listed)) == 23
    assert set(listed) == ids
    assert listed == sorted(listed, reverse=True)  # newest first
    titles = [p.title for p in client.projects.list(title="Paged 1", page_size=2)]
    assert sorted(titles) == [f"Paged {i}" for i in range(10, 20)]
    ordered = [p.id for p in client.projects.list(ordering="id", page_size=10)]
    assert ordered == sorted(ids)


def test_whoami_version_and_validation(client, server):
    me = client.users.whoami()
    assert me.id == 1 and me.email == "default_user@localhost"
    version = client.versions.get()
    assert version.release == "1.23.2" and version.edition == "Community"

    project = client.projects.create(title="Validated", label_config=LABEL_CONFIG)
    answer = client.projects.validate_label_config(
        project.id, label_config=LABEL_CONFIG.replace("Neg", "Negative"))
    assert answer.config_essential_data_has_changed is None
    with pytest.raises(ApiError) as caught:
        client.projects.validate_label_config(project.id, label_config="<View><Text></View>")
    assert caught.value.status_code == 400


def test_sdk_token_calls(server):
    client = LabelStudio(base_url=server.url, api_key=server.token)
    created = client.tokens.create()
    assert created.token.count(".") == 2
    listed = client.tokens.list()
    assert [t.token for t in listed] == [created.token.rsplit(".", 1)[0]]
    access = client.tokens.refresh(refresh=created.token)
    assert access.access.count(".") == 2
    with_pat = LabelStudio(base_url=server.url, api_key=created.token)
    assert with_pat.users.whoami().id == 1
    assert client.users.get_token().token == server.token


def test_bad_keys_are_refused(server):
    with pytest.raises(ApiError) as caught:
        LabelStudio(base_url=server.url, api_key="wrong").projects.get(1)
    assert caught.value.status_code == 401


# -- the legacy client -----------------------------------------------------------------------

@pytest.fixture
def legacy(server):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from label_studio_sdk import Client
        return Client(url=server.url, api_key=server.token)


def test_legacy_client(legacy, server):
    assert legacy.check_connection() == {"status": "UP"}
    assert legacy.is_enterprise is False

    project = legacy.start_project(title="Legacy project", label_config=LABEL_CONFIG)
    assert project.id and project.params["title"] == "Legacy project"
    other = legacy.start_project(title="Another legacy")

    listed = legacy.get_projects()
    assert sorted(p.id for p in listed) == sorted([project.id, other.id])
    fetched = legacy.get_project(project.id)
    assert fetched.get_params()["label_config"] == LABEL_CONFIG
    assert fetched.parsed_label_config["sentiment"]["type"] == "Choices"

    fetched.set_params(title="Legacy renamed", maximum_annotations=2)
    params = legacy.get_project(project.id).get_params()
    assert params["title"] == "Legacy renamed" and params["maximum_annotations"] == 2

    response = legacy.delete_project(project.id)
    assert response.status_code == 204
    assert [p.id for p in legacy.get_projects()] == [other.id]
    assert server.api.get(f"/api/projects/{project.id}").status_code == 404


def test_legacy_client_users(legacy):
    users = legacy.get_users()
    assert [u.id for u in users] == [1]
    created = legacy.create_user({"email": "legacy@example.com", "first_name": "Leg"})
    assert created.email == "legacy@example.com"
