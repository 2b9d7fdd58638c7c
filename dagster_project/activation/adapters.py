"""Channel adapters over real protocols. Each takes a Message and delivers it once per
``decision_id``: the id travels as the idempotency key (SMTP Message-ID, HTTP Idempotency-Key, the
sink's file name), so a retry after a crash is recognised by the receiving side."""

from __future__ import annotations

import json
import os
import smtplib
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

MESSAGE_ID_DOMAIN = "journey-orchestrator"


class DeliveryError(Exception):
    def __init__(self, message: str, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True)
class Message:
    decision_id: str
    customer_key: str
    action: str  # contact, web, advisor_task
    channel: str  # email, sms, push, web, advisor
    offer_id: str | None
    subject: str
    body: str
    recipient: str | None = None  # email address or phone; None where the channel keys by customer
    context: dict = field(default_factory=dict)  # advisor tasks: the conversation so far


class Adapter(Protocol):
    def deliver(self, message: Message) -> str:
        """Deliver or raise DeliveryError; returns a receipt for the action log."""
        ...


class LocalSinkAdapter:
    """The demo default: one JSON file per decision in a folder; an existing file is a duplicate."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def deliver(self, message: Message) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.folder / f"{message.decision_id}.json"
        if target.exists():
            return f"already delivered: {target.name}"
        partial = target.with_suffix(".partial")
        partial.write_text(json.dumps(asdict(message), sort_keys=True), encoding="utf-8")
        partial.replace(target)  # atomic: a reader never sees half a message
        return f"written {target.name}"


class SmtpAdapter:
    def __init__(self, endpoint: str, sender: str, timeout_s: float = 10.0) -> None:
        host, _, port = endpoint.partition(":")
        self.host, self.port = host, int(port or 25)
        self.sender, self.timeout_s = sender, timeout_s

    def deliver(self, message: Message) -> str:
        if not message.recipient:
            raise DeliveryError("no email address on record", retryable=False)
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = message.recipient
        email["Subject"] = message.subject
        email["Message-ID"] = f"<{message.decision_id}@{MESSAGE_ID_DOMAIN}>"
        email["X-Decision-Id"] = message.decision_id
        email.set_content(message.body)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
                smtp.send_message(email)
        except smtplib.SMTPRecipientsRefused as error:
            raise DeliveryError(f"recipient refused: {error}", retryable=False) from error
        except smtplib.SMTPResponseException as error:
            permanent = 500 <= error.smtp_code < 600
            raise DeliveryError(
                f"SMTP {error.smtp_code}: {error.smtp_error!r}", not permanent
            ) from error
        except (smtplib.SMTPException, OSError) as error:
            raise DeliveryError(f"SMTP: {error}", retryable=True) from error
        return f"accepted by {self.host}:{self.port}"


class WebhookAdapter:
    """JSON POST with ``Idempotency-Key``; the Authorization value comes from the environment."""

    def __init__(self, url: str, auth_env: str | None = None, timeout_s: float = 10.0) -> None:
        self.url, self.auth_env, self.timeout_s = url, auth_env, timeout_s

    def deliver(self, message: Message) -> str:
        headers = {"Content-Type": "application/json", "Idempotency-Key": message.decision_id}
        if self.auth_env:
            secret = os.environ.get(self.auth_env)
            if not secret:
                raise DeliveryError(
                    f"environment variable {self.auth_env} is not set", retryable=True
                )
            headers["Authorization"] = secret
        request = urllib.request.Request(
            self.url, data=json.dumps(asdict(message)).encode(), headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                return f"HTTP {response.status}"
        except urllib.error.HTTPError as error:
            if error.code == 409:  # the receiver already has this idempotency key
                return "HTTP 409: already delivered"
            retryable = error.code in (408, 425, 429) or error.code >= 500
            raise DeliveryError(f"HTTP {error.code} from {self.url}", retryable) from error
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            raise DeliveryError(f"{self.url}: {error}", retryable=True) from error
