"""Where LabelDesk keeps its data and how it runs: defaults, environment, settings.json."""

import os
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

import orjson

APP_NAME = "labeldesk"


def default_data_dir():
    """LABELDESK_DATA_DIR, else the platform's folder for user data."""
    env = os.environ.get("LABELDESK_DATA_DIR")
    if env:
        return Path(env).expanduser()
    home = Path.home()
    if sys.platform == "darwin":
        return home / "Library" / "Application Support" / "LabelDesk"
    if os.name == "nt":
        return Path(os.environ.get("APPDATA", home / "AppData" / "Roaming")) / "LabelDesk"
    return Path(os.environ.get("XDG_DATA_HOME") or home / ".local" / "share") / APP_NAME


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

    # Keys of settings.json that the user (or the UI) may change between runs.
    PERSISTED = ("auth", "port", "local_files_root")

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
            raise SystemExit(f"{self.settings_file} can't be read: {e}") from None
        for key in self.PERSISTED:
            if key in saved and key not in overrides:
                value = saved[key]
                setattr(self, key, Path(value) if key == "local_files_root" else value)
        return self

    def save_file(self):
        data = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(self).items()
                if k in self.PERSISTED}
        from .files import atomic_write
        atomic_write(self.settings_file, orjson.dumps(data, option=orjson.OPT_INDENT_2))
