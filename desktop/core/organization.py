"""The one organization: its settings, its members (every user) and its invite link.

As Label Studio 1.23's organizations API answers them (organizations/api.py, serializers.py):
members ordered by username, each with the projects it created and annotated when asked;
the invite link is LS's `/user/signup/?token=…` with the organization's token, which LabelDesk
keeps and resets but no page of it accepts (it has no sign-up: docs/compatibility.md).
"""

import secrets
import string

from desktop.core.errors import NotFound
from desktop.core.records import locked
from desktop.core.users import ORGANIZATION

MEMBERS_PAGE_SIZE = 20  # LS's OrganizationMemberListPagination
UNLIMITED = 1000000  # what LS makes of page_size=-1
TOKEN_CHARS = string.ascii_letters + string.digits  # Django's get_random_string


def member_page_size(value):
    if value == "-1":
        return UNLIMITED
    try:
        size = int(value)
    except (TypeError, ValueError):
        return MEMBERS_PAGE_SIZE
    return size if size > 0 else MEMBERS_PAGE_SIZE


def page_number(value):
    if value in (None, ""):
        return 1
    try:
        number = int(value)
    except ValueError:
        raise NotFound(detail="Invalid page.") from None
    if number < 1:
        raise NotFound(detail="Invalid page.")
    return number


def new_invite_token():
    return "".join(secrets.choice(TOKEN_CHARS) for _ in range(40))


class Organization:
    def __init__(self, records, users):
        self.r = records
        self.users = users
        self.meta = records.store.table("meta")

    def check(self, organization_id):
        if organization_id != ORGANIZATION["id"]:
            raise NotFound(detail="No Organization matches the given query.")

    # -- the organization ------------------------------------------------------------------

    def as_json(self, organization_id):
        """LS's OrganizationSerializer (every column of the model)."""
        self.check(organization_id)
        owner = self.users.get(1)
        return {"id": ORGANIZATION["id"], "title": ORGANIZATION["title"],
                "token": self.invite()["token"], "created_at": owner["date_joined"],
                "updated_at": owner["date_joined"], "contact_info": None, "created_by": 1,
                "users": sorted(self.users.users.docs())}

    # -- members ---------------------------------------------------------------------------

    @locked
    def members(self, organization_id, page=None, page_size=None, contributed=False):
        """(count, page number, the page's members) as LS's OrganizationMemberListAPI pages
        them: DRF's page numbers ("last" too; anything else not a page is a 404), a page_size
        that isn't a positive number the default, -1 all of them."""
        self.check(organization_id)
        users = self.users.users.docs()
        ids = sorted(users, key=lambda i: (users[i]["username"], i))
        size = member_page_size(page_size)
        last = max(1, -(-len(ids) // size))
        number = last if page == "last" else page_number(page)
        if number > last:
            raise NotFound(detail="Invalid page.")
        ids = ids[(number - 1) * size:number * size]
        created, contributed_to = self._projects_of(ids) if contributed else ({}, {})
        results = []
        for user_id in ids:
            user = self.users.as_json(user_id)
            mine = created.get(user_id, []) if contributed else None
            annotated = contributed_to.get(user_id, []) if contributed else None
            user["created_projects"] = mine
            user["contributed_to_projects"] = annotated
            results.append({"id": user_id, "organization": ORGANIZATION["id"], "user": user,
                            "created_projects": mine, "contributed_to_projects": annotated})
        return len(users), number, number < last, results

    @locked
    def member(self, organization_id, user_id, contributed=False):
        """LS's OrganizationMemberSerializer: one member with its counts."""
        self.check(organization_id)
        user = self.users.users.doc(user_id)
        if user is None:
            raise NotFound(detail="No OrganizationMember matches the given query.")
        annotations = [doc for doc in self.r.annotations.docs().values()
                       if doc.get("completed_by") == user_id]
        created, contributed_to = self._projects_of([user_id]) if contributed else ({}, {})
        return {"user": user_id, "organization": ORGANIZATION["id"],
                "contributed_projects_count": len({doc.get("project") for doc in annotations}),
                "annotations_count": len(annotations), "created_at": user["date_joined"],
                "created_projects": created.get(user_id, [])[:100] if contributed else None,
                "contributed_to_projects": (contributed_to.get(user_id, [])[:100]
                                            if contributed else None)}

    def _projects_of(self, user_ids):
        """({user: projects it created}, {user: projects it annotated}), each project as
        {"id", "title"}, in project order."""
        wanted = set(user_ids)
        projects = self.r.projects.docs()
        created, contributed = {}, {}
        for project_id in sorted(projects):
            project = projects[project_id]
            brief = {"id": project_id, "title": project.get("title", "")}
            if project.get("created_by") in wanted:
                created.setdefault(project["created_by"], []).append(brief)
            annotators = {self.r.annotations.doc(i).get("completed_by")
                          for i in self.r.annotations_by_project.ids(project_id)}
            for user_id in sorted(annotators & wanted):
                contributed.setdefault(user_id, []).append(brief)
        return created, contributed

    # -- the invite link -------------------------------------------------------------------

    def invite_token(self):
        meta = self.meta.doc(1) or {}
        return meta.get("invite_token")

    def invite(self):
        token = self.invite_token()
        if token is None:
            return self.reset_invite()
        return {"invite_url": f"/user/signup/?token={token}", "token": token}

    def reset_invite(self):
        token = new_invite_token()
        self.users.secret_key()  # the meta document exists from here on
        with self.r.transaction():
            self.meta.update({"invite_token": token}, doc_ids=[1])
        return {"invite_url": f"/user/signup/?token={token}", "token": token}
