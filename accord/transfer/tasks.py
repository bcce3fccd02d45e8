"""Background tasks of imports and exports (django.tasks: the database queue, or RQ)."""

from django.tasks import task

from accord.transfer.jobs import export_run, import_run


@task
def run_import(job_id: int) -> None:
    """Run (or go on with) an import; see accord.transfer.jobs.import_run."""
    import_run(job_id)


@task
def run_export(job_id: int) -> None:
    """Write a big export's file; see accord.transfer.jobs.export_run."""
    export_run(job_id)
