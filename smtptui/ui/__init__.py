"""The Textual app: panes that post actions, a transcript that renders the session."""
