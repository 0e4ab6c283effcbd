"""The local user, its legacy token and its personal access tokens (JWT, as Label Studio 1.23)."""

import re
import secrets
import time
import uuid

from desktop.core import clock, jwt
from desktop.core.errors import AuthFailed, Bare, Conflict, NotFound, ValidationError

DEFAULT_EMAIL = "default_user@localhost"
ACCESS_TTL = 300  # seconds, as Label Studio's access tokens
PAT_TTL = 200 * 365 * 24 * 3600  # Label Studio's default PAT lifetime: 200 years
ORGANIZATION = {"id": 1, "title": "Label Studio"}
# Label Studio 1.23.2's permissions of a user (core/permissions.py, whoami's answer), in order.
PERMISSIONS = [
    *(f"organizations.{a}" for a in ("create", "view", "change", "delete", "invite")),
    *(f"projects.{a}" for a in ("create", "view", "change", "delete", "reset_cache")),
    *(f"tasks.{a}" for a in ("create", "view", "change", "delete")), "views.reset",
    *(f"annotations.{a}" for a in ("create", "view", "change", "delete")), "actions.perform",
    "predictions.any", "avatar.any",
    *(f"{m}.{a}" for m in ("labels", "models", "model_provider_connection")
      for a in ("create", "view", "change", "delete")),
    "webhooks.view", "webhooks.change", "users.token.any",
    "storages.view", "storages.change", "storages.sync",
    *(f"views.{a}" for a in ("view", "create", "change", "delete")),
]
DANGEROUS_KEYS = ("ctrl+alt+delete", "cmd+alt+escape", "alt+f4", "ctrl+alt+esc", "cmd+option+esc",
                  "ctrl+shift+esc", "cmd+shift+q", "alt+tab", "cmd+tab", "ctrl+alt+t",
                  "cmd+space")
KEY_CHARACTERS = re.compile(r"^[a-zA-Z0-9\+\-\s\[\]\\;'\".,/`~!@#$%^&*()_={}|:<>?]+$")
MODIFIERS = ("ctrl", "cmd", "command", "alt", "option", "shift", "meta")


def hotkeys_problem(custom, given=True):
    """LS's HotkeysSerializer: the first thing wrong with `custom_hotkeys`, or None."""
    if not given:
        return "This field is required."
    if custom is None:
        return "This field may not be null."
    if not isinstance(custom, dict):
        return f'Expected a dictionary of items but got type "{type(custom).__name__}".'
    if len(custom) > 200:
        return "Cannot define more than 200 custom hotkeys"
    for action, data in custom.items():
        if not action:
            return f"Action key '{action}' must be a non-empty string"
        if len(action) > 100:
            return f"Action key '{action}' is too long (max 100 characters)"
        if ":" not in action:
            return f"Action key '{action}' must be in 'section:action' format"
        section, name = action.split(":", 1)
        if not section.strip() or not name.strip():
            return f"Action key '{action}' must have non-empty section and action parts"
        if not isinstance(data, dict):
            return f"Hotkey data for '{action}' must be a dictionary"
        if "key" not in data:
            return f"Missing 'key' in hotkey data for '{action}'"
        key = data["key"]
        if not isinstance(key, str) or not key:
            return f"Key combination for '{action}' must be a non-empty string"
        if len(key) > 50:
            return f"Key combination for '{action}' is too long (max 50 characters)"
        if key.lower().strip() in DANGEROUS_KEYS:
            return f"Key combination '{key}' is not allowed for security reasons"
        if "active" in data and not isinstance(data["active"], bool):
            return f"Active flag for '{action}' must be a boolean"
        if not KEY_CHARACTERS.match(key):
            return f"Key combination '{key}' for '{action}' contains invalid characters"
        for part in [p.strip() for p in key.split("+")][:-1]:
            if part.lower() not in MODIFIERS and len(part) > 20:
                return f"Invalid modifier or key '{part}' in key combination '{key}'"
    return None


USER_FIELDS = ("first_name", "last_name", "username", "email", "phone", "allow_newsletters")
REQUIRED_FIELDS = ("username", "email")  # never null nor blank once set


def new_legacy_token():
    return secrets.token_hex(20)


def initials_of(user):
    return (user["first_name"][:1] + user["last_name"][:1]) or user["email"][:2]


class Users:
    def __init__(self, store):
        self.store = store
        self.users = store.table("users")
        self.tokens = store.table("tokens")
        self.meta = store.table("meta")

    # -- set-up ---------------------------------------------------------------------------

    def secret_key(self):
        meta = self.meta.doc(1)
        if meta is None:
            with self.store.transaction():
                meta = self.meta.doc(1)
                if meta is None:
                    self.meta.insert({"secret_key": secrets.token_urlsafe(48),
                                      "created_at": clock.iso()})
                    meta = self.meta.doc(1)
        return meta["secret_key"]

    def ensure_local_user(self, email="", token=""):
        """Create the local user on first start; apply --username/--user-token when given."""
        with self.store.transaction():
            user = self.users.doc(1)
            if user is None:
                stamp = clock.iso()
                self.users.insert({"email": email or DEFAULT_EMAIL, "username": "",
                                   "first_name": "", "last_name": "", "phone": "",
                                   "token": token or new_legacy_token(), "date_joined": stamp,
                                   "last_activity": stamp, "custom_hotkeys": {},
                                   "allow_newsletters": None, "active_organization": 1})
            else:
                changes = {}
                if email and user["email"] != email:
                    changes["email"] = email
                if token and user["token"] != token:
                    if self.by_token(token) not in (None, 1):
                        raise ValidationError({"token": ["This token belongs to another user."]})
                    changes["token"] = token
                if changes:
                    self.users.update(changes, doc_ids=[1])
        return 1

    # -- lookups and shapes ---------------------------------------------------------------

    def get(self, user_id):
        user = self.users.doc(user_id) if isinstance(user_id, int) else None
        if user is None:
            raise NotFound("User")
        return user

    def by_email(self, email):
        for user_id, user in self.users.docs().items():
            if user["email"] == email:
                return user_id
        return None

    def by_token(self, token):
        for user_id, user in self.users.docs().items():
            # bytes: compare_digest refuses str with non-ASCII characters (a TypeError)
            if token and secrets.compare_digest(user["token"].encode(),
                                                token.encode("utf-8", "surrogatepass")):
                return user_id
        return None

    def brief(self, user_id):
        """The short form projects and exports embed as `created_by`."""
        user = self.users.doc(user_id) if user_id else None
        if user is None:
            return None
        return {"id": user_id, "first_name": user["first_name"], "last_name": user["last_name"],
                "email": user["email"], "avatar": None}

    def expanded(self, user_id):
        """The user as GET /api/tasks/{id} expands an annotation's `completed_by` (LS's
        CompletedByDMSerializer); None for no user, the id itself for one that is gone."""
        user = self.users.doc(user_id) if isinstance(user_id, int) else None
        if user is None:
            return user_id
        return {"id": user_id, "first_name": user["first_name"], "last_name": user["last_name"],
                "avatar": None, "email": user["email"], "initials": initials_of(user)}

    def as_json(self, user_id, whoami=False):
        user = self.get(user_id)
        initials = initials_of(user)
        data = {"id": user_id, "first_name": user["first_name"], "last_name": user["last_name"],
                "username": user["username"], "email": user["email"],
                "last_activity": user["last_activity"], "custom_hotkeys": user["custom_hotkeys"],
                "avatar": None, "initials": initials, "phone": user["phone"],
                "active_organization": user["active_organization"],
                "active_organization_meta": {"title": ORGANIZATION["title"],
                                             "email": self.get(1)["email"]},
                "allow_newsletters": user["allow_newsletters"], "date_joined": user["date_joined"]}
        if whoami:
            data["permissions"] = PERMISSIONS
        return data

    def cli_info(self, email):
        """What `labeldesk user --username` prints, as `label-studio user` does."""
        user_id = self.by_email(email or DEFAULT_EMAIL)
        if user_id is None:
            return {"status": "error", "message": f"user {email} doesn't exist"}
        return {**self.as_json(user_id), "token": self.get(user_id)["token"], "status": "ok"}

    def list(self):
        return [self.as_json(i) for i in sorted(self.users.docs())]

    def create(self, fields):
        email = fields.get("email")
        if not isinstance(email, str) or "@" not in email:
            raise ValidationError({"email": ["Enter a valid email address."]})
        if self.by_email(email) is not None:
            raise ValidationError({"email": ["User with this email already exists."]})
        stamp = clock.iso()
        doc = {"email": email, "username": "", "first_name": "", "last_name": "", "phone": "",
               "token": new_legacy_token(), "date_joined": stamp, "last_activity": stamp,
               "custom_hotkeys": {}, "allow_newsletters": None, "active_organization": None}
        doc.update(self._clean(fields))
        return self.users.insert(doc)

    def update(self, user_id, fields):
        self.get(user_id)
        changes = self._clean(fields)
        if "email" in changes and self.by_email(changes["email"]) not in (None, user_id):
            raise ValidationError({"email": ["User with this email already exists."]})
        if changes:
            self.users.update(changes, doc_ids=[user_id])
        return self.as_json(user_id)

    def delete(self, user_id):
        self.get(user_id)
        if user_id == 1:
            raise ValidationError("The local user can't be deleted.")
        self.users.remove(doc_ids=[user_id])

    def _clean(self, fields):
        out = {}
        for key in USER_FIELDS:
            if key in fields:
                value = fields[key]
                if key == "allow_newsletters":
                    if value is not None and not isinstance(value, bool):
                        raise ValidationError({key: ["Must be a valid boolean."]})
                elif value is None and key in REQUIRED_FIELDS:
                    raise ValidationError({key: ["This field may not be null."]})
                elif not isinstance(value, str):
                    raise ValidationError({key: ["Not a valid string."]})
                elif key in REQUIRED_FIELDS and not value.strip():
                    # LS 400 for a blank username; it refuses any email change (405 "Cannot
                    # update read-only field"), LabelDesk lets the email change but not blank
                    raise ValidationError({key: ["This field may not be blank."]})
                out[key] = value
        return out

    def hotkeys(self, user_id, body=None):
        """GET (body None) or PATCH /api/current-user/hotkeys; a bad PATCH is LS's bare 400
        {"error": "Invalid hotkeys configuration", "details": {"custom_hotkeys": [...]}}."""
        if body is not None:
            custom = body.get("custom_hotkeys") if isinstance(body, dict) else None
            problem = hotkeys_problem(custom, "custom_hotkeys" in body
                                      if isinstance(body, dict) else False)
            if problem:
                raise Bare({"error": "Invalid hotkeys configuration",
                            "details": {"custom_hotkeys": [problem]}})
            self.users.update({"custom_hotkeys": custom}, doc_ids=[user_id])
            return {"custom_hotkeys": custom}
        return {"custom_hotkeys": self.get(user_id)["custom_hotkeys"]}

    def reset_token(self, user_id):
        token = new_legacy_token()
        self.users.update({"token": token}, doc_ids=[user_id])
        return token

    # -- personal access tokens -----------------------------------------------------------

    def _valid_pats(self, user_id):
        now = time.time()
        return [(i, t) for i, t in self.tokens.docs().items()
                if t["user"] == user_id and not t["blacklisted"] and t["exp"] > now]

    def create_pat(self, user_id):
        with self.store.transaction():
            if self._valid_pats(user_id):
                raise Conflict("You already have a valid token. Please revoke it before "
                               "creating a new one.")
            return self._issue_pat(user_id)

    def _issue_pat(self, user_id):
        iat = int(time.time())
        payload = {"token_type": "refresh", "exp": iat + PAT_TTL, "iat": iat,
                   "jti": uuid.uuid4().hex, "user_id": str(user_id)}
        token = jwt.encode(payload, self.secret_key())
        self.tokens.insert({"jti": payload["jti"], "user": user_id, "exp": payload["exp"],
                            "blacklisted": False, "token": token.rsplit(".", 1)[0],
                            "created_at": clock.iso()})
        return token

    def list_pats(self, user_id):
        return [{"token": t["token"]} for _, t in self._valid_pats(user_id)]

    def _refresh_record(self, refresh):
        """The stored record of a refresh token given whole, or as header.payload."""
        if not isinstance(refresh, str) or refresh.count(".") not in (1, 2):
            return None, None
        head = ".".join(refresh.split(".")[:2])
        for token_id, record in self.tokens.docs().items():
            if record["token"] == head:
                if refresh.count(".") == 2:
                    try:
                        jwt.decode(refresh, self.secret_key())
                    except jwt.InvalidToken:
                        return None, None
                return token_id, record
        return None, None

    def refresh(self, refresh):
        if refresh is None:
            raise ValidationError({"refresh": ["This field is required."]})
        token_id, record = self._refresh_record(refresh)
        if record is None or refresh.count(".") != 2 or record["exp"] <= time.time():
            raise AuthFailed("Token is invalid")
        if record["blacklisted"]:
            raise AuthFailed("Token is blacklisted")
        iat = int(time.time())
        access = {"token_type": "access", "exp": iat + ACCESS_TTL, "iat": iat,
                  "jti": uuid.uuid4().hex, "user_id": str(record["user"])}
        return jwt.encode(access, self.secret_key())

    def blacklist(self, refresh):
        if refresh is None:
            raise ValidationError({"refresh": ["This field is required."]})
        token_id, record = self._refresh_record(refresh)
        if record is None or record["blacklisted"]:
            raise NotFound(detail="Token is invalid or already blacklisted.")
        self.tokens.update({"blacklisted": True}, doc_ids=[token_id])

    def rotate(self, refresh):
        if refresh is None:
            raise ValidationError({"refresh": ["This field is required."]})
        with self.store.transaction():
            token_id, record = self._refresh_record(refresh)
            if record is None or refresh.count(".") != 2:
                raise AuthFailed("Token is invalid")
            if record["blacklisted"]:
                raise AuthFailed("Token is blacklisted")
            self.tokens.update({"blacklisted": True}, doc_ids=[token_id])
            return self._issue_pat(record["user"])

    # -- authentication -------------------------------------------------------------------

    def authenticate(self, authorization="", api_key=""):
        """The user id for a request's credentials; AuthFailed with Label Studio's wording."""
        if api_key:
            authorization = f"Token {api_key}"
        scheme, _, credential = (authorization or "").strip().partition(" ")
        credential = credential.strip()
        scheme = scheme.lower()
        if scheme == "token" and credential:
            user_id = self.by_token(credential)
            if user_id is None:
                raise AuthFailed("Invalid token.")
            return user_id
        if scheme == "bearer" and credential:
            try:
                payload = jwt.decode(credential, self.secret_key())
            except jwt.InvalidToken:
                payload = None
            if payload and payload.get("token_type") == "access":
                if payload.get("exp", 0) <= time.time():
                    raise AuthFailed("Given token not valid for any token type")
                user_id = int(payload.get("user_id", 0))
                if self.users.doc(user_id) is not None:
                    return user_id
        raise AuthFailed("Authentication credentials were not provided.")
