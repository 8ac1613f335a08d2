"""The form panes on the left: connection, auth, compose, server capabilities."""
