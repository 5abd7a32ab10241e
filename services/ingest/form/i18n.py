"""Texts of the report form in French and English."""

from __future__ import annotations

from typing import Final

LANGUAGES: Final = ("fr", "en")

TEXTS: Final[dict[str, dict[str, str]]] = {
    "fr": {
        "title": "Déclarer un incident lié à une IA en santé",
        "intro": "Vigilance des dispositifs d'intelligence artificielle. Les champs marqués * "
        "sont obligatoires. Ne saisissez pas le nom du patient.",
        "switch": "English",
        "kind": "Type de déclaration",
        "kind.adverse_event": "Événement indésirable",
        "kind.inappropriate_ai_suggestion": "Suggestion inappropriée de l'IA",
        "kind.near_miss": "Presque-incident (sans conséquence pour le patient)",
        "reporter_role": "Vous êtes",
        "role.physician": "Médecin",
        "role.nurse": "Infirmier·ère",
        "role.pharmacist": "Pharmacien·ne",
        "role.other_health_professional": "Autre professionnel de santé",
        "role.vigilance_correspondent": "Correspondant de matériovigilance",
        "role.manufacturer": "Fabricant",
        "role.patient": "Patient ou proche",
        "establishment": "Établissement",
        "device_name": "Nom du dispositif ou logiciel d'IA",
        "device_manufacturer": "Fabricant",
        "device_model_version": "Version du modèle d'IA",
        "device_udi_di": "IUD-ID (si connu)",
        "event_date": "Date de l'incident",
        "awareness_date": "Date à laquelle vous en avez eu connaissance",
        "outcome": "Conséquence pour le patient",
        "outcome.death": "Décès",
        "outcome.serious_deterioration": "Dégradation grave de l'état de santé",
        "outcome.injury": "Blessure ou atteinte",
        "outcome.no_harm": "Aucun dommage",
        "outcome.unknown": "Inconnue",
        "public_health_threat": "Menace grave pour la santé publique",
        "narrative": "Description de l'incident",
        "narrative_help": "Ce que l'IA a proposé, ce qui s'est passé, les conséquences.",
        "patient_identifier": "Identifiant patient local (IPP), facultatif",
        "patient_identifier_help": "Il est pseudonymisé avant transmission.",
        "submit": "Envoyer la déclaration",
        "errors": "La déclaration n'a pas été envoyée. Corrigez les champs signalés.",
        "required": "obligatoire",
        "thanks": "Déclaration enregistrée",
        "tracking": "Votre numéro de suivi",
        "follow": "Suivre votre déclaration",
        "follow_help": "Conservez ce lien : il est personnel et permet de suivre le dossier.",
        "another": "Faire une autre déclaration",
        "sent": "Ce qui a été transmis",
        "sent_help": "Les identifiants reconnus (numéros, coordonnées, noms…) ont été remplacés "
        "avant l'envoi. Le registre, les autorités et le fabricant ne lisent que ce texte ; "
        "l'identifiant patient n'est transmis que sous forme pseudonymisée.",
        "expired": "Ce formulaire a expiré et la déclaration n'a pas été enregistrée. Vérifiez "
        "les champs et envoyez-le à nouveau.",
        "unavailable": "Le service d'enregistrement est momentanément indisponible. Votre "
        "déclaration n'a pas été enregistrée ; réessayez dans quelques instants.",
    },
    "en": {
        "title": "Report an incident involving AI in health care",
        "intro": "Vigilance of artificial-intelligence devices. Fields marked * are required. "
        "Do not enter the patient's name.",
        "switch": "Français",
        "kind": "Type of report",
        "kind.adverse_event": "Adverse event",
        "kind.inappropriate_ai_suggestion": "Inappropriate AI suggestion",
        "kind.near_miss": "Near miss (no consequence for the patient)",
        "reporter_role": "You are",
        "role.physician": "Physician",
        "role.nurse": "Nurse",
        "role.pharmacist": "Pharmacist",
        "role.other_health_professional": "Other health professional",
        "role.vigilance_correspondent": "Materiovigilance correspondent",
        "role.manufacturer": "Manufacturer",
        "role.patient": "Patient or relative",
        "establishment": "Establishment",
        "device_name": "Name of the AI device or software",
        "device_manufacturer": "Manufacturer",
        "device_model_version": "AI model version",
        "device_udi_di": "UDI-DI (if known)",
        "event_date": "Date of the incident",
        "awareness_date": "Date you became aware of it",
        "outcome": "Outcome for the patient",
        "outcome.death": "Death",
        "outcome.serious_deterioration": "Serious deterioration of health",
        "outcome.injury": "Injury",
        "outcome.no_harm": "No harm",
        "outcome.unknown": "Unknown",
        "public_health_threat": "Serious public health threat",
        "narrative": "Description of the incident",
        "narrative_help": "What the AI suggested, what happened, the consequences.",
        "patient_identifier": "Local patient identifier (MRN), optional",
        "patient_identifier_help": "It is pseudonymised before it is transmitted.",
        "submit": "Submit the report",
        "errors": "The report was not sent. Please correct the fields shown.",
        "required": "required",
        "thanks": "Report recorded",
        "tracking": "Your tracking number",
        "follow": "Follow your report",
        "follow_help": "Keep this link: it is personal and shows where the case stands.",
        "another": "Submit another report",
        "sent": "What was sent",
        "sent_help": "Identifiers that were recognised (numbers, contact details, names…) were "
        "replaced before sending. The registry, the authorities and the manufacturer read this "
        "text only; the patient identifier is sent only as a pseudonym.",
        "expired": "This form had expired and the report was NOT recorded. Please check the "
        "fields and submit it again.",
        "unavailable": "The recording service is temporarily unavailable. Your report was NOT "
        "recorded; please try again in a moment.",
    },
}


def pick_language(query: str | None, accept_language: str | None) -> str:
    """Language from ``?lang=``, else the browser's preference, else French."""
    if query in LANGUAGES:
        return query
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip()[:2].lower()
        if code in LANGUAGES:
            return code
    return "fr"
