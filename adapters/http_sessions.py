"""HTTP sessions for the provider SDKs: kept alive per thread, their environment read once.

Both SDKs talk through `requests`. Left to itself, `requests` costs a provider call more than
the call's own work here:
- `gocardless_pro` sends every request through `requests.post(...)`: a new Session, so a new
  TCP (and, in production, TLS) connection per call;
- every request of a Session that trusts the environment walks `os.environ` for proxies and
  CA bundles and looks for a `.netrc`, again on each call (a fifth of a card charge's CPU).

`ThreadSessions(base_url)` reads those settings once, for the one base URL a gateway talks to
(so NO_PROXY still applies), and then stops trusting the environment: the proxy a deployment
sets when the process starts is honoured, one changed while it runs is not (it never was for
the SDKs' other settings either). `ThreadSessions` keeps one such session per thread, as the
Stripe SDK does with its own: a Session's connection pool is not shared across threads.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import requests


@dataclass(frozen=True)
class EnvironmentSettings:
    """What `requests` would take from the environment for one base URL."""

    proxies: dict[str, str]
    verify: bool | str
    cert: str | tuple[str, str] | None

    @classmethod
    def read(cls, base_url: str) -> EnvironmentSettings:
        found = requests.Session().merge_environment_settings(base_url, {}, None, None, None)
        return cls(proxies=dict(found["proxies"]), verify=found["verify"], cert=found["cert"])

    def session(self) -> requests.Session:
        """A Session with these settings that does not look at the environment again."""
        session = requests.Session()
        session.proxies.update(self.proxies)
        session.verify = self.verify
        session.cert = self.cert
        session.trust_env = False  # also skips the per-request .netrc lookup
        return session


class ThreadSessions:
    """One pinned session per thread, made on the thread's first call, with the environment
    as it was when this was built (when the gateway was)."""

    def __init__(self, base_url: str) -> None:
        self.settings = EnvironmentSettings.read(base_url)
        self._local = threading.local()

    def get(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = self.settings.session()
        return session
