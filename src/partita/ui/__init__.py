"""`partita ui`: a local web page and JSON API over a session (needs the `ui` extra).

`views` turns the session's records into JSON, `api` and `actions` are the routes,
`pages` serves the page and its static files from this package, `server` puts them
together and runs them.
"""
