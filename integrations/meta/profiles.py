"""The sender's name and picture from Meta's User Profile API, fetched once per identity on a
task, so tickets show a person instead of a numeric PSID/IGSID."""

import logging
from dataclasses import dataclass
from datetime import timedelta

from core.tasks import Backoff
from integrations.clients import ProviderRejected, ProviderUnavailable
from integrations.meta import client as meta
from tickets.selectors import get_identity_by_id
from tickets.services import update_identity_profile

logger = logging.getLogger(__name__)

# Rate limits (codes 4/17/32/613) lift within the hour: 1, 2, 4, 8 minutes, then the next
# message from the person tries again.
PROFILE_BACKOFF = Backoff(attempts=5, first_delay=timedelta(minutes=1))


@dataclass(frozen=True)
class ProfileFetch:
    status: str
    retry_in: timedelta | None = None


def fetch_profile(*, identity_id: int, attempt: int) -> ProfileFetch:
    identity = get_identity_by_id(identity_id=identity_id)
    if identity is None or identity.profile_fetched_at is not None:
        return ProfileFetch(status="done")
    if not meta.is_configured():
        return ProfileFetch(status="not_configured")
    try:
        profile = meta.MetaClient.from_settings().get_profile(
            user_id=identity.value, platform=identity.kind
        )
    except ProviderUnavailable as exc:
        retry_in = PROFILE_BACKOFF.retry_in(attempt)
        logger.info("meta.profile.unavailable identity=%s attempt=%s %s", identity_id, attempt, exc)
        return ProfileFetch(status="retry" if retry_in else "gave_up", retry_in=retry_in)
    except ProviderRejected as exc:
        # No consent, a blocked Page, a deleted account: Meta will not say more later either.
        logger.warning("meta.profile.refused identity=%s code=%s %s", identity_id, exc.code, exc)
        update_identity_profile(identity_id=identity_id, name="", picture_url="")
        return ProfileFetch(status="refused")
    update_identity_profile(
        identity_id=identity_id, name=profile.name, picture_url=profile.picture_url
    )
    return ProfileFetch(status="stored")
