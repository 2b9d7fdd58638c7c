"""What a channel endpoint in ``channels.yaml`` may be, per adapter: the one home of these rules.

The config validates SMTP and webhook endpoints when it loads; the adapters check the same rules
when built; a local sink's folder is checked where the data directory is known (building the
adapters). Each function returns the endpoint in the form its adapter uses, or raises ValueError
saying what is wrong (the caller adds the file, key and value).
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from urllib.parse import urlsplit

# Labels may hold "_" (container and service names do) and the name may end in a dot.
_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
_HOSTNAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*\.?$")
_SMTP = re.compile(r"^(?:\[(?P<ipv6>[0-9A-Fa-f:.]+)\]|(?P<host>[^:\[\]\s]+)):(?P<port>[0-9]{1,5})$")
_UNSAFE = re.compile(r"[\s\x00-\x1f\x7f]")


def _valid_port(port: str | int) -> int:
    number = int(port)
    if not 1 <= number <= 65535:
        raise ValueError(f"port {port} is not between 1 and 65535")
    return number


def _valid_host(host: str) -> str:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if not _HOSTNAME.match(host):
            raise ValueError(f"{host!r} is not a host name or IP address") from None
    return host


def is_loopback(host: str) -> bool:
    """localhost, 127.0.0.0/8 or ::1: traffic that never leaves the machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def smtp_endpoint(endpoint: str) -> tuple[str, int]:
    """``host:port`` (``[::1]:25`` for IPv6) -> (host, port)."""
    match = _SMTP.match(endpoint)
    if not match:
        raise ValueError("an SMTP endpoint must be host:port, e.g. smtp.bank.example:587")
    if match["ipv6"]:
        try:
            host = str(ipaddress.IPv6Address(match["ipv6"]))
        except ValueError:
            raise ValueError(f"{match['ipv6']!r} is not an IPv6 address") from None
    else:
        host = _valid_host(match["host"])
    return host, _valid_port(match["port"])


def webhook_url(url: str, allow_insecure_http: bool = False) -> str:
    """An ``https://`` URL; ``http://`` only to a loopback host, or with ``allow_insecure_http``."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise ValueError(f"not a valid URL: {error}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise ValueError("a webhook endpoint must be an https:// URL")
    if _UNSAFE.search(url):
        raise ValueError("a webhook URL must not contain spaces or control characters")
    if not parts.hostname:
        raise ValueError("a webhook URL must name a host")
    if parts.username is not None or parts.password is not None:
        raise ValueError("a webhook URL must not carry credentials; name them with auth_env")
    if port is not None:
        _valid_port(port)
    host = _valid_host(parts.hostname)
    if scheme == "http" and not (is_loopback(host) or allow_insecure_http):
        raise ValueError(
            "plain http:// is allowed only to a loopback host (localhost, 127.0.0.0/8, ::1); "
            "use https://, or set allow_insecure_http: true on this channel"
        )
    return url


def sink_folder(sink_root: Path, endpoint: str) -> Path:
    """The local sink's folder, which must lie inside ``sink_root`` (the data dir's outbox)."""
    root = sink_root.resolve()
    folder = (root / endpoint).resolve()
    if folder == root or not folder.is_relative_to(root):
        raise ValueError(f"a local sink must be a folder inside {root}, and this is {folder}")
    return folder
