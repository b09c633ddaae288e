"""A GoCardless simulator the official `gocardless_pro` SDK talks to over real HTTP.

    sim = GoCardlessSimulator(SimulatorConfig(clock=clock.today)).start()
    client = gocardless_pro.Client(access_token="sim", base_url=sim.url)
    ...
    sim.advance_to(date(2026, 2, 20))   # or POST /_sim/advance {"today": "2026-02-20"}

Behaviours are chosen per mandate (`metadata.behaviour` on the mandate or its customer):
see behaviours.py. Faults: faults.py. Webhooks: webhooks.py. Admin: `POST /_sim/advance`,
`GET|POST /_sim/faults`, `GET /_sim/stats`.
"""

from adapters.simulators.gocardless.behaviours import SCHEMES, Behaviour, SchemeTiming
from adapters.simulators.gocardless.faults import FaultConfig
from adapters.simulators.gocardless.simulator import GoCardlessSimulator, SimulatorConfig
from adapters.simulators.gocardless.webhooks import WebhookConfig, sign

__all__ = ["SCHEMES", "Behaviour", "FaultConfig", "GoCardlessSimulator", "SchemeTiming",
           "SimulatorConfig", "WebhookConfig", "sign"]
