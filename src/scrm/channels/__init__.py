"""Channel live QR codes (渠道活码): codes backed by WeCom contact ways, staff routing, welcome
messages, scan attribution and channel analytics."""
