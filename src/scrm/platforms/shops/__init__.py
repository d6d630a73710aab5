"""Shop platforms (电商平台): Youzan, Taobao/Tmall, Douyin shop, JD and Pinduoduo.

Every platform has the same shape (`<platform>/`): signing (pure, reproduces the published vectors),
a client over `transport.ShopTransport`, a pure mapping from the platform's order JSON to the
canonical `OrderSnapshot` (`canonical.py`), push verification where the platform pushes, and a
simulator front-end over the shared simulated world (`simulator/`).
"""
