def import_command():
    """CSV import (to be written)."""


def export_command():
    """CSV export (to be written)."""
