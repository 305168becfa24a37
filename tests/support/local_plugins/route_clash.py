"""Serves a path the sample plugin serves too: startup must fail naming both."""
from core import Service, hookimpl

echo = Service(name="route_clash.echo", path="/api/sample/echo")


@echo.get()
def get_echo(request):
    return {}


@hookimpl
def interviewminds_services(settings):
    return [echo]
