"""Pre-save hooks: stop a note with blocking findings before it is written.

- `notecheck.guard(text, ...)` (in `notecheck.api`): call it yourself before saving; raises `NoteBlocked`.
- `notecheck.hooks.sqlalchemy.protect(Model, text="body")`: checks every new or changed note on flush.
- `POST /v1/gate` and `/static/notecheck-gate.js` (the `api` package): the same gate over HTTP and in web forms.
"""
