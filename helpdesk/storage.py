"""Static files storage for production: WhiteNoise's compressed, content-hashed files.

Vendored minified libraries (static/vendor/, the Swagger UI sidecar) end with a
`sourceMappingURL` comment naming a .map file that is not shipped; Django's manifest storage
would fail `collectstatic` on it. Source-map references are therefore left as they are (a
browser without the map just shows the minified code); CSS url() and @import are still hashed.
"""

from django.contrib.staticfiles.storage import HashedFilesMixin
from whitenoise.storage import CompressedManifestStaticFilesStorage


def _without_source_maps(patterns):
    kept = []
    for glob, rules in patterns:
        rules = tuple(rule for rule in rules if "sourceMappingURL" not in str(rule))
        if rules:
            kept.append((glob, rules))
    return tuple(kept)


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    patterns = _without_source_maps(HashedFilesMixin.patterns)
