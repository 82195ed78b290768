"""The HTTP front door: ``create_app(kb, settings)`` and its settings."""

from geokb.errors import SettingsError
from geokb.http.app import create_app
from geokb.http.service import LogWatch
from geokb.http.settings import Settings

__all__ = ["LogWatch", "Settings", "SettingsError", "create_app"]
