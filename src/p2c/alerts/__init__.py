"""Alerts: tell a person when p2c needs one — by signed webhook and by e-mail, with a digest.

The service (``p2c serve``) builds one :class:`Alerter` from a project's :class:`AlertSettings`,
raises alerts (:func:`alerts_for_run` for a finished run, :func:`stale_alert` periodically, and
``auto_paused`` / ``unreachable`` directly) and calls :meth:`Alerter.flush` every few seconds.

- :mod:`~p2c.alerts.settings` — the ``alerts:`` section of a project file
- :mod:`~p2c.alerts.model`    — :class:`Alert`, :class:`AlertKind`, the pure rules
- :mod:`~p2c.alerts.deliver`  — :class:`Delivery`, :class:`WebhookChannel`, the signature scheme
- :mod:`~p2c.alerts.mail`     — :class:`EmailChannel`
- :mod:`~p2c.alerts.alerter`  — :class:`Alerter`: digest, delivery, history

Example::

    alerter = Alerter(AlertSettings.from_data(doc.data.get("alerts"), doc))
    for alert in alerts_for_run("contoso", run.id, run.status, run.failed, run.error, alerter.settings, now):
        alerter.raise_alert(alert)
    alerter.flush()
"""

from p2c.alerts.alerter import HISTORY_SIZE, RETRY_FAILED, Alerter, AlertRecord, build_channels
from p2c.alerts.deliver import (
    Channel,
    Delivery,
    WebhookChannel,
    redact,
    retry_delay,
    safe_url,
    sign,
    subject_line,
    verify_signature,
)
from p2c.alerts.mail import EmailChannel, render_email
from p2c.alerts.model import Alert, AlertKind, alerts_for_run, fold, stale_alert
from p2c.alerts.settings import AlertSettings, EmailSettings, WebhookSettings

__all__ = [
    "HISTORY_SIZE",
    "RETRY_FAILED",
    "Alert",
    "AlertKind",
    "AlertRecord",
    "AlertSettings",
    "Alerter",
    "Channel",
    "Delivery",
    "EmailChannel",
    "EmailSettings",
    "WebhookChannel",
    "WebhookSettings",
    "alerts_for_run",
    "build_channels",
    "fold",
    "redact",
    "render_email",
    "retry_delay",
    "safe_url",
    "sign",
    "stale_alert",
    "subject_line",
    "verify_signature",
]
