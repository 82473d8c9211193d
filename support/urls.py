from django.urls import path

from support import views

app_name = "support"

urlpatterns = [
    path("account/support/", views.request_list, name="requests"),
    path("account/support/new/", views.request_new, name="request-new"),
    path("account/support/attachments/<uuid:public_id>/", views.attachment_download,
         name="attachment"),
    path("account/support/<str:number>/", views.request_detail, name="request"),
    path("account/support/<str:number>/close/", views.request_close, name="request-close"),
    path("account/support/<str:number>/reopen/", views.request_reopen, name="request-reopen"),
    path("contact/", views.contact, name="contact"),
    path("contact/sent/", views.contact_sent, name="contact-sent"),
]
