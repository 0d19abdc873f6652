"""`python -m bench.ws_setup N`: staff users with sessions for the fan-out benchmark.

Prints a JSON list of session keys, one per user, all members of the `general` channel. Runs
with bench settings against the realtime benchmark's database (set by bench.realtime).
"""

import json
import sys

import django


def main(count: int) -> list[str]:
    django.setup()
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group
    from django.utils.module_loading import import_string

    from accounts.models import Role, User
    from comms.models import Channel, ChannelMember

    model_backend = "django.contrib.auth.backends.ModelBackend"
    backend = model_backend if model_backend in settings.AUTHENTICATION_BACKENDS else None
    store = import_string(settings.SESSION_ENGINE + ".SessionStore")
    group = Group.objects.get(name=Role.AGENT)
    general = Channel.objects.get(slug="general")
    password = make_password(None)  # unusable: these users only ever hold a session
    keys = []
    for n in range(count):
        user, _ = User.objects.get_or_create(
            username=f"bench-ws-{n}", defaults={"password": password, "display_name": f"WS {n}"}
        )
        user.groups.add(group)
        ChannelMember.objects.get_or_create(channel=general, user=user)
        session = store()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = backend or settings.AUTHENTICATION_BACKENDS[0]
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        keys.append(session.session_key)
    return keys


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]))))
