"""Webhooks: Label Studio's /api/webhooks (a project's hooks, the actions they listen for) and
their firing, which LabelDesk confines to this computer: a hook's URL must be on loopback
(localhost, 127.0.0.0/8, [::1]), since LabelDesk makes no network call of its own
(docs/compatibility.md). The hooks (webhooks) and the sender that posts their events
(sender).

May import: desktop.core, desktop.labelconfig, desktop.db. Never desktop.api or desktop.shell.
"""
