from django.http import HttpResponse


def bare(request):
    """The baseline: the same Django, middleware and gunicorn, and no work at all."""
    return HttpResponse(b"ok", content_type="text/plain")
