"""Everything Zoom: the OAuth flow, the token service, the API client and the webhook handler."""
