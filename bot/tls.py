"""The one TLS context of the process, for every call to Slack and the SMTP server."""

from __future__ import annotations

import functools
import ssl


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The system's trusted CAs, read once: left to urllib, every call to Slack built its
    own context and read the CA bundle again (~20 ms of the interpreter a call). A
    context is safe to share between threads once made; a changed CA bundle (or
    SSL_CERT_FILE) is read at the next start."""
    return ssl.create_default_context()
