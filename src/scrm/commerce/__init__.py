"""Commerce (电商): shops, orders, order lines, refunds and logistics mirrored from the shop
platforms, the per-shop sync cursors, and the order aggregates kept on each customer."""
