import os

from django.core.wsgi import get_wsgi_application

from supportdesk.runtime import tune_gc

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "supportdesk.settings.production")
application = get_wsgi_application()
tune_gc()
