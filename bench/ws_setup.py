"""`python -m bench.ws_setup N`: staff users with sessions for the fan-out benchmark.

Prints a JSON list of session keys, one per user, all members of the `general` channel, every
one of them offline with no socket (a run that was killed may have left some "online"), so each
run's connect storm is the same. Runs with bench settings against the realtime benchmark's
database (set by bench.realtime).
"""

import json
import sys

import django


def main(count: int) -> list[str]:
    django.setup()
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group

    from accounts.models import Role, User
    from bench.sessions import session_key_for
    from comms.models import (
        Channel,
        ChannelMember,
        PresenceConnection,
        PresenceStatus,
        StaffPresence,
    )

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
        keys.append(session_key_for(user))
    bench_users = {"user__username__startswith": "bench-ws-"}
    PresenceConnection.objects.filter(**bench_users).delete()
    StaffPresence.objects.filter(**bench_users).update(status=PresenceStatus.OFFLINE)
    return keys


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]))))
