"""Adapters for the protocols teams already speak, one package per protocol (`interop/<protocol>/`).

Each parses its wire format, maps it onto the registry's and governance's records and calls their services;
it answers in its protocol's own error shape and holds no business rule of its own. Nothing below imports it.
"""
