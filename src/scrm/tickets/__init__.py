"""Service desk: tickets, forms, classification, routing and SLA (工单)."""
