"""The bundled OpenAPI fragments (YAML data files); installed as twilio_webhook_contracts.openapi."""
