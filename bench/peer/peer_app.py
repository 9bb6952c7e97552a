"""The peer of issue 14's comparison: a plain Django app that does what a webhook intake must at least do.

One view, `POST /webhooks/fb`: verify Meta's X-Hub-Signature-256 over the exact bytes, parse the JSON, store
each feed comment as a row (unique on the comment id, so retries are absorbed) in one transaction on
PostgreSQL, answer 200. No triage, routing or processing: it is the floor a conventional stack sets for the
same deliveries. Run by `bench/peer/run_peer.py` under gunicorn (2 processes x 2 threads). Not part of the
test suite, not a dependency of OneVoice: Django and gunicorn live in a virtualenv of their own.
"""

import hashlib
import hmac
import json
import os

import django
from django.conf import settings

settings.configure(
    DEBUG=False, SECRET_KEY="peer-bench-only", ALLOWED_HOSTS=["127.0.0.1", "localhost"], ROOT_URLCONF=__name__,
    MIDDLEWARE=[], INSTALLED_APPS=[], USE_TZ=True,
    DATABASES={"default": {"ENGINE": "django.db.backends.postgresql", "NAME": os.environ["PEER_DB"],
                           "HOST": "127.0.0.1", "PORT": "5432", "USER": os.environ.get("PEER_USER", "postgres"),
                           "CONN_MAX_AGE": 600}},
)
django.setup()

from django.db import connection, transaction  # noqa: E402
from django.http import HttpResponse, JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402
from django.views.decorators.csrf import csrf_exempt  # noqa: E402

SECRET = os.environ["PEER_APP_SECRET"].encode()


@csrf_exempt
def webhook(request):
    body = request.body
    expected = "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, request.headers.get("X-Hub-Signature-256", "")):
        return HttpResponse("signature mismatch", status=401)
    try:
        payload = json.loads(body)
        rows = [(c["value"]["comment_id"], c["value"].get("from", {}).get("id", ""), c["value"].get("message", ""),
                 json.dumps(c["value"])) for e in payload["entry"] for c in e.get("changes", [])
                if c.get("field") == "feed" and c["value"].get("item") == "comment"]
    except (ValueError, KeyError, TypeError, AttributeError):
        return HttpResponse("malformed", status=400)
    with transaction.atomic(), connection.cursor() as cur:
        cur.executemany("INSERT INTO peer_comments (external_id, author, text, raw) VALUES (%s, %s, %s, %s) "
                        "ON CONFLICT (external_id) DO NOTHING", rows)
    return JsonResponse({"stored": len(rows)})


urlpatterns = [path("webhooks/fb", webhook)]

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
