"""The HTTP shell: the application factory (auth, CORS, errors), the server processes, and the
request-reading and byte-joining helpers the facades share."""
