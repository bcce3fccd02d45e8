"""The WSGI entry point (granian and gunicorn load `accord.wsgi:application`)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "accord.settings")

application = get_wsgi_application()
