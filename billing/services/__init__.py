"""Billing workflows, one module per flow:

- `invoices`: draft, issue (number, PDF after commit), pay (delivers the services);
- `orders`: quote and place an order, with its invoice issued at once;
- `renewals`: the beat jobs that issue renewal invoices and expire unpaid services;
- `service_edits`: the customer's automatic-renewal switch, a staff member's edit.

Callers import from the flow's module (`billing.services.orders.order_place`)."""
