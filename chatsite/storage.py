from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticStorage(CompressedManifestStaticFilesStorage):
    """Hashed, compressed static files, with ES module imports rewritten too.

    The browser client is ES modules: without this, app.js would get a hashed name but
    the modules it imports would not, and after a deploy a cached old module could meet
    a new app.js.
    """

    support_js_module_import_aggregation = True
