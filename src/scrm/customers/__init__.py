"""Customers (客户): one profile across WeCom and every shop, with identities, follow staff and tags."""
