"""The HTTP front door: ``create_app(kb, settings)`` and its settings."""

from geokb.errors import SettingsError
from geokb.http.app import LogWatch, Settings, create_app

__all__ = ["LogWatch", "Settings", "SettingsError", "create_app"]
