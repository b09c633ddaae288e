"""HTTP for the provider SDKs: kept-alive connections, the environment read once.

Both SDKs talk through `requests` by default. Left to itself, `requests` costs a provider call
more than the call's own work here:
- `gocardless_pro` sends every request through `requests.post(...)`: a new Session, so a new
  TCP (and, in production, TLS) connection per call;
- every request of a Session that trusts the environment walks `os.environ` for proxies and
  CA bundles and looks for a `.netrc`, again on each call (a fifth of a card charge's CPU);
- a Session's own per-request work (merging settings, hooks, cookies, a PreparedRequest and a
  Response) costs more than the urllib3 send beneath it.

So both gateways send through one urllib3 pool each (`provider_pool`: thread-safe, kept-alive
connections), with the proxy, CA bundle and client certificate the environment names for
their base URL when they are built (so NO_PROXY still applies): one changed while the process
runs is not seen (it never was for the SDKs' other settings either).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import certifi
import requests
import urllib3


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


def provider_pool(base_url: str, *, ca_certs: str | None = None,
                  pool_size: int = 128) -> urllib3.PoolManager:
    """A urllib3 pool for `base_url` with the environment's settings for it, read now:
    its proxy (a ProxyManager, its credentials sent as requests sends them; a SOCKS one with
    PySocks installed), CA bundle or directory (unless `ca_certs`, e.g. the Stripe SDK's
    own), client certificate. `pool_size` connections kept alive per host (one per thread that
    calls at once: the provider pool's)."""
    settings = EnvironmentSettings.read(base_url)
    options: dict[str, Any] = {"maxsize": pool_size, "block": False}
    verify = settings.verify
    if verify is False:
        options["cert_reqs"] = "CERT_NONE"
    else:
        options["cert_reqs"] = "CERT_REQUIRED"
        options["ca_certs"] = ca_certs or (verify if isinstance(verify, str)
                                           else certifi.where())
        if os.path.isdir(options["ca_certs"]):  # a directory of certificates, as requests
            options["ca_cert_dir"] = options.pop("ca_certs")
    if isinstance(settings.cert, str):
        options["cert_file"] = settings.cert
    elif settings.cert:
        options["cert_file"], options["key_file"] = settings.cert
    scheme = urlsplit(base_url).scheme or "https"
    proxy = settings.proxies.get(scheme) or settings.proxies.get("all")
    if not proxy:
        return urllib3.PoolManager(**options)
    parts = urlsplit(proxy)
    if parts.scheme.startswith("socks"):
        # As requests: needs PySocks (`pip install urllib3[socks]`); its manager reads the
        # credentials in the URL itself.
        from urllib3.contrib.socks import SOCKSProxyManager

        return SOCKSProxyManager(proxy, **options)
    # urllib3 sends the credentials in a proxy's URL only as a header it is given.
    credentials = (f"{unquote(parts.username)}:{unquote(parts.password or '')}"
                   if parts.username else None)
    return urllib3.ProxyManager(
        proxy, proxy_headers=urllib3.make_headers(proxy_basic_auth=credentials)
        if credentials else None, **options)
