from django.urls import path

from benchmarks import views
from portal.urls import urlpatterns as portal_urlpatterns

urlpatterns = [path("bench/bare/", views.bare), *portal_urlpatterns]
