"""The hosted invoice page's own words, in English and French (the document's are in
labels.py). The not-found page is bilingual: it cannot know whose link it was."""

from __future__ import annotations

from typing import Final

#: Shared keys for both languages; a test checks that neither misses one.
PAGE_LABELS: Final[dict[str, dict[str, str]]] = {
    "en": {
        "status": "Status",
        "status.draft": "Draft",
        "status.open": "Awaiting payment",
        "status.paid": "Paid",
        "status.carried_forward": "Carried forward",
        "status.void": "Cancelled",
        "status.uncollectible": "Uncollectible",
        "amount_due": "Amount due",
        "carried_to": "The amount due was carried forward to invoice {number}.",
        "carried_to.link": "See invoice {number}",
        "paid.note": "This invoice is paid. Thank you.",
        "pay.button": "Pay / update payment method",
        "pay.card": "You will enter a card on our payment provider's secure page; every open "
                    "balance is then charged to it at once.",
        "pay.direct_debit": "You will set up a direct debit mandate on our payment provider's "
                            "secure page; every open balance is then collected with it.",
        "pay.wire": "Please pay by bank transfer with the details below, quoting the payment "
                    "reference.",
        "pay.unavailable": "Online payment is not available at the moment; please try again "
                           "later.",
    },
    "fr": {
        "status": "Statut",
        "status.draft": "Brouillon",
        "status.open": "En attente de paiement",
        "status.paid": "Payée",
        "status.carried_forward": "Reportée",
        "status.void": "Annulée",
        "status.uncollectible": "Irrécouvrable",
        "amount_due": "Montant dû",
        "carried_to": "Le montant dû a été reporté sur la facture {number}.",
        "carried_to.link": "Voir la facture {number}",
        "paid.note": "Cette facture est payée. Merci.",
        "pay.button": "Payer / mettre à jour le moyen de paiement",
        "pay.card": "Vous saisirez une carte sur la page sécurisée de notre prestataire de "
                    "paiement ; tous les soldes ouverts y seront alors débités immédiatement.",
        "pay.direct_debit": "Vous mettrez en place un mandat de prélèvement sur la page "
                            "sécurisée de notre prestataire de paiement ; tous les soldes "
                            "ouverts seront alors prélevés.",
        "pay.wire": "Merci de régler par virement bancaire avec les coordonnées ci-dessous, en "
                    "indiquant la référence de paiement.",
        "pay.unavailable": "Le paiement en ligne n'est pas disponible pour le moment ; "
                           "veuillez réessayer plus tard.",
    },
}
