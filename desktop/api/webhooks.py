"""Webhooks (LS's /api/webhooks): a project's hooks, and the actions they can listen for."""

from desktop.api.web import created, path_id, query, read_json
from desktop.webhooks.webhooks import actions_info


def install(app, core):
    webhooks = core.webhooks

    @app.get("/api/webhooks/info", auth=False)
    def info():
        return actions_info(query("organization-only"))

    @app.get("/api/webhooks")
    def list_webhooks():
        return webhooks.list_json(query("project"))

    @app.post("/api/webhooks")
    def create_webhook():
        return created(webhooks.as_json(webhooks.create(read_json())))

    @app.get("/api/webhooks/<webhook_id>")
    def get_webhook(webhook_id):
        return webhooks.as_json(path_id(webhook_id, "Webhook"))

    @app.route("/api/webhooks/<webhook_id>", method=["PATCH", "PUT"])
    def update_webhook(webhook_id):
        webhook_id = path_id(webhook_id, "Webhook")
        webhooks.update(webhook_id, read_json())
        return webhooks.as_json(webhook_id)

    @app.delete("/api/webhooks/<webhook_id>")
    def delete_webhook(webhook_id):
        webhooks.delete(path_id(webhook_id, "Webhook"))
