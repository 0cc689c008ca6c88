"""Courtesy for training: each training mail gets a copy wrapped in a formal opening and
closing, a signature (phone, web) or a legal footer, drawn at random whatever its class, so
that the models learn that none of it says what a mail is for. Without it, a long polite mail
drifted towards whichever class happened to have more "message", phone numbers or links.

The phrases here are not the ones the stress checks use (``stress.py``): the checks must
measure invariance to courtesy the model has not seen word for word.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import replace

from maildesk.triage.learned.corpus import Example

AUGMENTED_WEIGHT = 0.5

OPENINGS: dict[str, tuple[str, ...]] = {
    "es": (
        "Buenos días:\n\nMe dirijo a ustedes para exponerles lo siguiente.",
        "Hola, equipo:\n\nConfío en que todo vaya bien por allí.",
        "Muy señores míos:\n\nPor medio del presente les traslado una cuestión.",
        "Apreciado servicio de soporte,\n\nles escribo en nombre de nuestra empresa.",
    ),
    "ca": (
        "Bon dia,\n\nUs adreço aquest correu per exposar-vos el següent.",
        "Hola, equip:\n\nConfio que tot vagi bé.",
        "Apreciat servei de suport,\n\nus escric en nom de la nostra empresa.",
    ),
    "en": (
        "Hello support,\n\nI trust you are doing well. I would like to raise the following.",
        "Good afternoon,\n\nI am reaching out on behalf of our company.",
        "To whom it may concern,\n\nPlease find below the details of my request.",
        "Dear Sir or Madam,\n\nI am contacting your team about the matter below.",
    ),
    "de": (
        "Guten Tag,\n\nich schreibe Ihnen im Namen unseres Unternehmens.",
        "Liebes Support-Team,\n\nich hoffe, bei Ihnen ist alles in Ordnung.",
        "Sehr geehrtes Team,\n\nbitte beachten Sie die folgende Anfrage.",
    ),
    "fr": (
        "Bonjour,\n\nJe vous écris au nom de notre société.",
        "Chère équipe,\n\nJ'espère que tout se passe bien de votre côté.",
        "À l'attention du service client,\n\nveuillez trouver ci-dessous ma demande.",
    ),
    "pt": (
        "Bom dia,\n\nEscrevo-vos em nome da nossa empresa.",
        "Olá, equipa de apoio,\n\nespero que estejam todos bem.",
        "Prezada equipe,\n\nsegue abaixo a descrição da minha solicitação.",
    ),
    "it": (
        "Buongiorno,\n\nvi scrivo a nome della nostra azienda.",
        "Spettabile assistenza,\n\nspero che tutto proceda bene.",
        "Alla cortese attenzione del servizio clienti,\n\nriporto di seguito la richiesta.",
    ),
}

CLOSINGS: dict[str, tuple[str, ...]] = {
    "es": (
        "Muchas gracias por su tiempo. Un saludo cordial,",
        "Agradeciendo su colaboración, reciban un cordial saludo.",
        "Quedo a su disposición para cualquier aclaración. Saludos,",
    ),
    "ca": (
        "Moltes gràcies pel vostre temps. Salutacions cordials,",
        "Resto a la vostra disposició per a qualsevol aclariment.",
    ),
    "en": (
        "Many thanks for your time and help. Best regards,",
        "Please let me know if you need any further information. Sincerely,",
        "Looking forward to your reply. Kind regards,",
    ),
    "de": (
        "Für Rückfragen stehe ich gerne zur Verfügung. Beste Grüße",
        "Herzlichen Dank für Ihre Mühe. Freundliche Grüße",
    ),
    "fr": (
        "Je reste à votre disposition pour toute information complémentaire. Bien à vous,",
        "Avec mes remerciements, veuillez agréer mes salutations distinguées.",
    ),
    "pt": (
        "Fico à disposição para qualquer esclarecimento. Com os melhores cumprimentos,",
        "Desde já agradeço a atenção. Abraços,",
    ),
    "it": (
        "Resto a disposizione per qualsiasi chiarimento. Un cordiale saluto,",
        "Grazie per l'attenzione. Saluti,",
    ),
}

SIGNATURES = (
    "Laura Gómez\nDirección de operaciones\nTel. 934 556 120 | Móvil 622 018 447\n"
    "www.empresa-ejemplo.es",
    "Peter Brown\nOffice Manager\nPhone +34 911 223 344\nhttps://www.example-company.com",
    "Núria Soler\nAdministració\nT. 972 334 455 · info@botiga-exemple.cat",
    "Thomas Weber\nGeschäftsführer\nTel.: +49 30 1234567\nwww.beispiel-firma.de",
    "Sophie Laurent\nResponsable administrative\nTél. +33 1 23 45 67 89",
    "João Pereira\nGerente\nTelefone +351 912 345 678\nwww.exemplo.pt",
    "Giulia Bianchi\nUfficio amministrazione\nTel. +39 02 1234 5678",
)

FOOTERS = (
    "AVISO LEGAL: La información contenida en este correo electrónico es confidencial. Si "
    "usted no es el destinatario, le rogamos que lo elimine y nos lo comunique.",
    "CONFIDENTIALITY NOTICE: This e-mail, including any attachments, may contain privileged "
    "information. If you received it in error, please notify the sender and delete it.",
    "Antes de imprimir este mensaje, piense en el medio ambiente.",
    "Dieser E-Mail-Inhalt ist vertraulich. Wenn Sie nicht der richtige Adressat sind, "
    "informieren Sie bitte sofort den Absender.",
    "Ce message et ses pièces jointes sont confidentiels. Si vous l'avez reçu par erreur, "
    "merci de le supprimer.",
)


def with_courtesy(examples: Sequence[Example], seed: int = 0) -> list[Example]:
    """One wrapped copy of each example, at ``AUGMENTED_WEIGHT`` of its weight."""
    rng = random.Random(seed)
    copies = []
    for example in examples:
        language = example.language if example.language in OPENINGS else "es"
        parts = [rng.choice(OPENINGS[language]), example.text, rng.choice(CLOSINGS[language])]
        if rng.random() < 0.6:
            parts.append(rng.choice(SIGNATURES))
        if rng.random() < 0.4:
            parts.append(rng.choice(FOOTERS))
        copies.append(
            replace(
                example,
                text="\n\n".join(parts),
                weight=example.weight * AUGMENTED_WEIGHT,
                source=example.source,
            )
        )
    return copies
