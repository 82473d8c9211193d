from django.urls import path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("", views.email_list, name="email-list"),
    path("<int:email_id>/", views.email_detail, name="email-detail"),
    path("<int:email_id>/html/", views.email_html, name="email-html"),
]
