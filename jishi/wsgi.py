"""WSGI entry point for gunicorn: refuses to serve with unsafe production settings."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jishi.settings")
application = get_wsgi_application()

from jishi.core.checks import refuse_unsafe_production  # noqa: E402 - needs the apps loaded

refuse_unsafe_production()
# Load the Chinese segmenter in each server worker now, not on its first search.
from jishi.catalog.search import warm_up_in_background  # noqa: E402

warm_up_in_background()
