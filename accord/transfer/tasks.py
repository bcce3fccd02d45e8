"""Background tasks of imports and exports (django.tasks: the database queue, or RQ)."""

from django.tasks import task


@task
def run_import(job_id: int) -> None:
    """Run (or go on with) an import; see accord.transfer.services.import_run."""
    from accord.transfer.services import import_run

    import_run(job_id)


@task
def run_export(job_id: int) -> None:
    """Write a big export's file; see accord.transfer.services.export_run."""
    from accord.transfer.services import export_run

    export_run(job_id)
