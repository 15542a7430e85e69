"""Backends turn a Request into a stream of events. See base.py for the protocol."""
