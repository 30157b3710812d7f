from django.http import HttpResponse


def calendar_feed(request, token: str):
    return HttpResponse(status=404)
