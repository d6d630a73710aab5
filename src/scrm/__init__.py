"""SCRM: WeCom private-domain operations tied to every shop, in one open-source service."""

__version__ = "0.1.0"
