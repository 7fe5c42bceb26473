"""The OpenAPI document and its interactive docs, served from local files."""

from drf_spectacular.views import SpectacularSwaggerView


class ApiDocsView(SpectacularSwaggerView):
    """Swagger UI whose inline style and start-up script carry the CSP nonce."""

    template_name = "api/swagger_ui.html"
    title = "Helpdesk API"
