"""The HTTP shell: the application factory (auth, CORS, errors), which world answers, and the
request-reading and byte-joining helpers the facades share; what plugs into it from above it
knows only as the protocols of `plugs`."""
