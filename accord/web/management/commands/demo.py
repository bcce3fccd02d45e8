"""`accord demo`: fill the database with a realistic demo company."""

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from accord.accounts import demo as accounts_demo
from accord.accounts.models import User
from accord.automation import demo as automation_demo
from accord.billing import demo as billing_demo
from accord.comms import demo as comms_demo
from accord.comms import demo_calls, demo_chats
from accord.comms.services.stats import stats_rebuild
from accord.contacts import demo as contacts_demo
from accord.documents import demo as documents_demo
from accord.marketing import demo as marketing_demo
from accord.reports import demo as reports_demo
from accord.sales import demo as sales_demo
from accord.work import demo as work_demo


class Command(BaseCommand):
    help = "Load the demo company (users in each role; more as features land)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="do nothing when the database already has users",
        )

    def handle(self, *args, if_empty: bool, **options):
        if if_empty and User.objects.exists():
            self.stdout.write("The database already has users; demo data not loaded.")
            logins = accounts_demo.existing_logins()
        else:
            with transaction.atomic():
                logins = accounts_demo.populate()
                contacts_demo.populate()
                sales_demo.populate()
                work_demo.populate()
                comms_demo.populate()
                demo_calls.populate()
                demo_chats.populate()
                documents_demo.populate()
                billing_demo.populate()
                marketing_demo.populate()
                marketing_demo.populate_forms()
                marketing_demo.populate_lines()
                marketing_demo.populate_surveys()
                reports_demo.populate()
                # The communication report's rollups, counted from all the demo's history
                # (the e-mail and calls made above, dated in the past).
                stats_rebuild()
            # After the rest has committed (and announced its records): the rules then run
            # on the newest deals only, not on every deal the demo made.
            with transaction.atomic():
                automation_demo.populate()
            self.stdout.write("Demo company loaded.")
        if not logins:
            return
        self.stdout.write("Log in with any of these:")
        for email, role in logins:
            self.stdout.write(f"  {email:<24} {role}")
        self.stdout.write(f"Password for all of them: {settings.ACCORD_DEMO_PASSWORD}")
