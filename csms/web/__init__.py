"""The CSMS's web pages: the operator dashboard (``/dashboard``) and the driver app
(``/driver``), plain HTML, CSS and JavaScript served from this package with no build step and
no external assets. The pages only call the REST API (``/api/...``) with the API token the user
gives them; they hold no domain logic of their own."""

from csms.web.pages import install

__all__ = ["install"]
