"""Reflex states: thin handlers that re-derive the signed-in user and call the services.

One module per page module of `rxapp/pages/` (or per component of `rxapp/components/` that several
pages share), named like it. Shared bases: `auth` (the signed-in user, sign-out), `keyset_pages`
(paging), `zoom_connect` (the Connect to Zoom step used by three pages). States never import pages,
components or the HTTP edge; pages and components reach the services only through a state."""
