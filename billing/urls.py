from django.urls import path

from billing import views

app_name = "billing"

urlpatterns = [
    path("services/", views.services_list, name="services"),
    path("services/<int:pk>/auto-renew/", views.service_auto_renew, name="service-auto-renew"),
    path("orders/", views.orders_list, name="orders"),
    path("orders/new/", views.order_new, name="order-new"),
    path("orders/<int:pk>/", views.order_detail, name="order"),
    path("invoices/", views.invoices_list, name="invoices"),
    path("balance/", views.balance, name="balance"),
    path("invoices/<str:number>/", views.invoice_detail, name="invoice"),
    path("invoices/<str:number>/pdf/", views.invoice_pdf, name="invoice-pdf"),
    path("invoices/<str:number>/pay/", views.invoice_pay, name="invoice-pay"),
    path("invoices/<str:number>/pay/qr.svg", views.invoice_pay_qr, name="invoice-pay-qr"),
]

# Mounted at /account/contacts/ under the "contacts" namespace (portal/urls.py).
contact_urlpatterns = [
    path("", views.contacts, name="contacts"),
    path("services/<int:pk>/change/", views.contact_change_new, name="change-new"),
    path("requests/<int:pk>/accept/", views.contact_change_answer, {"decision": "accept"},
         name="accept"),
    path("requests/<int:pk>/refuse/", views.contact_change_answer, {"decision": "refuse"},
         name="refuse"),
    path("requests/<int:pk>/cancel/", views.contact_change_cancel, name="cancel"),
    path("requests/<int:pk>/resend/", views.contact_change_resend, name="resend"),
    path("answer/<str:token>/", views.contact_change_answer_link, name="answer"),
]
