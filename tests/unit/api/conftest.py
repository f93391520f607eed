"""The in-process gateway fixtures of test_gateway_http, for every gateway test module."""

from test_gateway_http import gw, shared_gateway

__all__ = ["gw", "shared_gateway"]
