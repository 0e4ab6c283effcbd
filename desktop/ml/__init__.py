"""ML backends: connecting label-studio-ml model servers (backends), the protocol client that
talks to them (client), background prediction and training jobs (jobs) and the webhook events
they receive (events).

May import: desktop.core, desktop.labelconfig, desktop.db. Never desktop.api or desktop.shell.
"""
