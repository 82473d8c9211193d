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
    path("invoices/<str:number>/", views.invoice_detail, name="invoice"),
    path("invoices/<str:number>/pdf/", views.invoice_pdf, name="invoice-pdf"),
]
