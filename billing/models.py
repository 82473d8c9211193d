# Catalogue, services, orders and invoices arrive with the billing issue.
