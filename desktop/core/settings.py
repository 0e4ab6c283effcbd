"""Where LabelDesk keeps its data and how it runs: defaults, environment, settings.json."""

import os
import stat
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

import orjson

from desktop.core.errors import CannotOpen

APP_NAME = "labeldesk"


def default_data_dir():
    """LABELDESK_DATA_DIR, else the folder chosen on the Settings page (the user config's
    `data_dir`), else the platform's folder for user data."""
    env = os.environ.get("LABELDESK_DATA_DIR")
    if env:
        return Path(env).expanduser()
    chosen = read_user_config().get("data_dir")
    if isinstance(chosen, str) and chosen.strip() and Path(chosen).expanduser().is_absolute():
        return Path(chosen).expanduser()
    return platform_data_dir()


def default_data_dir_source():
    """What default_data_dir() follows: "LABELDESK_DATA_DIR", "config" or "default"."""
    if os.environ.get("LABELDESK_DATA_DIR"):
        return "LABELDESK_DATA_DIR"
    chosen = read_user_config().get("data_dir")
    if isinstance(chosen, str) and chosen.strip() and Path(chosen).expanduser().is_absolute():
        return "config"
    return "default"


def platform_data_dir():
    home = Path.home()
    if sys.platform == "darwin":
        return home / "Library" / "Application Support" / "LabelDesk"
    if os.name == "nt":
        return Path(os.environ.get("APPDATA", home / "AppData" / "Roaming")) / "LabelDesk"
    return Path(os.environ.get("XDG_DATA_HOME") or home / ".local" / "share") / APP_NAME


# -- the user config: what lives outside the data folder --------------------------------------
# settings.json is inside the data folder, so the folder itself is remembered in a small file
# of the user's: <platform config dir>/labeldesk/config.json, {"data_dir": "/abs/folder"}.

def user_config_dir():
    """LABELDESK_CONFIG_DIR, else the platform's folder for user config + "labeldesk"."""
    env = os.environ.get("LABELDESK_CONFIG_DIR")
    if env:
        return Path(env).expanduser()
    home = Path.home()
    if sys.platform == "darwin":
        base = home / "Library" / "Application Support"
    elif os.name == "nt":
        base = Path(os.environ.get("APPDATA") or home / "AppData" / "Roaming")
    else:
        base = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
    return base / APP_NAME


def user_config_file():
    return user_config_dir() / "config.json"


def read_user_config():
    """The user config as a dict; {} when it is missing or unreadable (never fatal: the data
    folder then falls back to the platform default)."""
    try:
        config = orjson.loads(user_config_file().read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return {}
    return config if isinstance(config, dict) else {}


def save_user_config(**values):
    """Merge `values` into the user config (written atomically); returns its path."""
    from desktop.core.files import atomic_write
    config = read_user_config()
    config.update({k: str(v) if isinstance(v, Path) else v for k, v in values.items()})
    path = user_config_file()
    atomic_write(path, orjson.dumps(config, option=orjson.OPT_INDENT_2), private=True)
    return path


def is_data_dir(folder):
    """Whether `folder` holds a LabelDesk data folder (its store)."""
    return (Path(folder) / "db" / "LOCK").exists() or (Path(folder) / "settings.json").is_file()


def check_data_dir(value, current=None):
    """A folder the user chose as the data folder, resolved; ValidationError when it can't be.

    It may not exist yet (it is created when LabelDesk opens it), but then the nearest folder
    above it must be writable. It can't be inside a LabelDesk data folder's own db/, media/ or
    export/ (the current one's included)."""
    from desktop.core.errors import ValidationError

    def refuse(message):
        raise ValidationError({"path": [message]})
    if not isinstance(value, str) or not value.strip():
        refuse("Choose a folder.")
    if "\x00" in value:
        refuse("Not a valid path.")
    path = Path(value.strip()).expanduser()
    if not path.is_absolute():
        refuse("Must be an absolute path.")
    try:
        path = path.resolve()
    except (OSError, RuntimeError) as e:
        refuse(f"Not a usable path: {e}")
    if current is not None and path == Path(current).resolve():
        refuse("LabelDesk already uses this folder.")
    if current is not None:
        data = Path(current).resolve()
        for private in (data / "db", data / "media", data / "export"):
            if path == private or private in path.parents:
                refuse(f"{private} belongs to the current data folder.")
    for parent in path.parents:
        if parent.name in ("db", "media", "export") and is_data_dir(parent.parent):
            refuse(f"{parent} belongs to the LabelDesk data folder {parent.parent}.")
    if path.name == "db" and is_data_dir(path.parent):
        refuse(f"{path} belongs to the LabelDesk data folder {path.parent}.")
    existing = path
    try:
        while not existing.exists():
            existing = existing.parent
        if not existing.is_dir():
            refuse(f"{existing} is not a folder.")
        if not os.access(existing, os.W_OK | os.X_OK):
            refuse(f"{existing} is not writable.")
    except OSError as e:
        refuse(f"Not a usable path: {e.strerror or e}")
    return path


@dataclass
class Settings:
    data_dir: Path = field(default_factory=default_data_dir)
    host: str = "127.0.0.1"
    port: int = 8080
    # Off only when the user says so (`--no-auth` or the settings page): scripts then need no token.
    auth: bool = True
    username: str = ""  # email of the local user, as `label-studio start --username`
    user_token: str = ""  # its legacy token, as `label-studio start --user-token`
    max_body_bytes: int = 250 * 1024 * 1024  # Label Studio's DATA_UPLOAD_MAX_MEMORY_SIZE
    local_files_root: Path = field(default_factory=Path.home)
    fsync: bool = True
    # What chose data_dir: "--data-dir", "LABELDESK_DATA_DIR", "config" (the Settings page's
    # choice, in the user config) or "default"; never saved.
    data_dir_source: str = field(default_factory=default_data_dir_source)
    backups_keep: int = 7  # how many backups <data dir>/backups keeps (desktop/core/backups.py)
    # How many days deleted projects, tasks and annotations stay in the trash (0: deletes are
    # final; desktop/core/trash.py).
    trash_days: int = 30
    # The host the UI is served on (desktop/core/uihost.py); "" until a server needs it.
    # Never saved.
    ui_host: str = ""

    # Keys of settings.json that the user (or the UI) may change between runs.
    PERSISTED = ("auth", "port", "local_files_root", "backups_keep", "trash_days")

    def for_folder(self, data_dir):
        """These settings for another data folder: its own settings.json, the same command-line
        user and process options (the Settings page's "Change…" reopens with these)."""
        other = Settings(data_dir=Path(data_dir), host=self.host, port=self.port,
                         username=self.username, user_token=self.user_token,
                         max_body_bytes=self.max_body_bytes, fsync=self.fsync,
                         data_dir_source="config", ui_host=self.ui_host)
        return other.load_file(overrides={"port"})

    @property
    def store_dir(self):
        return Path(self.data_dir) / "db"

    @property
    def media_dir(self):
        return Path(self.data_dir) / "media"

    @property
    def settings_file(self):
        return Path(self.data_dir) / "settings.json"

    def load_file(self, overrides=()):
        """Take persisted values from settings.json, except those given on the command line."""
        try:
            saved = orjson.loads(self.settings_file.read_bytes())
        except FileNotFoundError:
            return self
        except (OSError, orjson.JSONDecodeError) as e:
            raise CannotOpen(f"{self.settings_file} can't be read: {e}") from None
        for key in self.PERSISTED:
            if key in saved and key not in overrides:
                value = saved[key]
                setattr(self, key, Path(value) if key == "local_files_root" else value)
        return self

    def save_file(self):
        data = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(self).items()
                if k in self.PERSISTED}
        from desktop.core.files import atomic_write
        atomic_write(self.settings_file, orjson.dumps(data, option=orjson.OPT_INDENT_2),
                     private=True)

    # Folders of the data folder that LabelDesk makes; the store's db/ makes itself private.
    PRIVATE_FOLDERS = ("media", "export")

    def make_private(self):
        """Create the data folder 0700 (with media/ and export/), and tighten what an older
        LabelDesk (or a copy) left readable: folders to 0700, files to 0600. The whole tree
        is walked only when the data folder itself was looser than 0700; otherwise its own
        mode already keeps other users out of everything inside, and only the top entries
        are checked. db/ is the store's own (desktop/db tightens it)."""
        from desktop.core.files import PRIVATE_DIR, make_private_dirs
        root = Path(self.data_dir)
        make_private_dirs(root)
        loose = _tighten(root, PRIVATE_DIR)
        for name in self.PRIVATE_FOLDERS:
            make_private_dirs(root / name)
        if os.name == "nt":
            return  # modes don't apply there: the profile folder's ACL keeps other users out
        try:
            entries = list(os.scandir(root))
        except OSError:
            return
        for entry in entries:
            if entry.name == "db":
                continue
            if loose and entry.is_dir(follow_symlinks=False):
                _tighten_tree(entry.path)
            else:
                _tighten_entry(entry)


def _tighten(path, mode):
    """db.journal.tighten, never failing: what can't be changed stays. Callers skip links."""
    from desktop.db.journal import tighten
    try:
        return tighten(path, mode)
    except (OSError, NotImplementedError):
        return False


def _private_mode(mode):
    from desktop.core.files import PRIVATE_DIR, PRIVATE_FILE
    return PRIVATE_DIR if stat.S_ISDIR(mode) else PRIVATE_FILE


def _tighten_entry(entry):
    try:
        mode = entry.stat(follow_symlinks=False).st_mode
    except OSError:
        return
    if not stat.S_ISLNK(mode):  # never chmod what a link points to
        _tighten(entry.path, _private_mode(mode))


def _tighten_tree(folder):
    _tighten(folder, _private_mode(stat.S_IFDIR))
    for top, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = os.path.join(top, name)
            try:
                mode = os.lstat(path).st_mode
            except OSError:
                continue
            if not stat.S_ISLNK(mode):
                _tighten(path, _private_mode(mode))
