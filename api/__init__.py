"""notecheck's HTTP front end: `api.app.create_app(checker, settings)`. The reviewer queue lives in `api.review`."""
