"""Every write of imports, exports and backups, by topic; the worker's runs in jobs.py."""

from accord.transfer.jobs import BATCHES, STALE, count_rows, export_run, import_run
from accord.transfer.services.backups import (
    backup_request,
    backup_schedule_save,
    backups_due,
    prune_backups,
    require_admin,
)
from accord.transfer.services.exports import EXPORT_INLINE, export_create, require_export
from accord.transfer.services.imports import (
    import_configure,
    import_reread,
    import_start,
    import_undo,
    import_upload,
    imports_resume,
    max_upload_bytes,
    require_import,
)

__all__ = [
    "BATCHES",
    "EXPORT_INLINE",
    "STALE",
    "backup_request",
    "backup_schedule_save",
    "backups_due",
    "count_rows",
    "export_create",
    "export_run",
    "import_configure",
    "import_reread",
    "import_run",
    "import_start",
    "import_undo",
    "import_upload",
    "imports_resume",
    "max_upload_bytes",
    "prune_backups",
    "require_admin",
    "require_export",
    "require_import",
]
