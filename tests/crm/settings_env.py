import os

from crm_backend.core import config


def set_env(**values) -> dict:
    """Set (or with None, unset) environment variables and reload the settings; returns the
    previous values, for undoing."""
    old = {k: os.environ.get(k) for k in values}
    for k, v in values.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    config.get_settings.cache_clear()
    return old
