"""WSGI entry point for gunicorn."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jishi.settings")
application = get_wsgi_application()

# Load the Chinese segmenter in each server worker now, not on its first search.
from jishi.catalog.search import warm_up_in_background  # noqa: E402

warm_up_in_background()
