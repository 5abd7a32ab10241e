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
        "device_name_help": "Tapez le nom, le fabricant ou le numéro de soumission FDA "
        "(K…, DEN…, P…) pour choisir dans le catalogue, ou saisissez librement un dispositif "
        "qui n'y est pas.",
        "device_matches": "Dispositifs du catalogue",
        "device_found": "{n} dispositif(s) du catalogue. Flèches haut et bas pour parcourir, "
        "Entrée pour choisir, Échap pour fermer.",
        "device_none": "Aucun dispositif du catalogue ne correspond : saisie libre.",
        "device_chosen": "Choisi dans le catalogue : {name} ({manufacturer}). Fabricant rempli.",
        "device_free": "Pas dans le catalogue : saisie libre.",
        "device_in_catalogue": "Dans le catalogue",
        "device_versions": "Versions connues du registre : {versions}.",
        "device_no_versions": "Aucune version connue du registre pour ce dispositif : "
        "saisissez-la.",
        "date_format": "Date choisie : ",
        "not_after_today": "Au plus tard aujourd'hui, le {today}.",
        "future": "Cette date est dans le futur : au plus tard aujourd'hui, le {today}.",
        "after_awareness": "L'incident ne peut pas être postérieur à la date de connaissance.",
        "received": "Reçue le",
        "device": "Dispositif",
        "choose": "— Choisissez —",
        "event_date": "Date de l'incident",
        "awareness_date": "Date à laquelle vous en avez eu connaissance",
        "outcome": "Conséquence pour le patient",
        "outcome.death": "Décès",
        "outcome.serious_deterioration": "Dégradation grave de l'état de santé",
        "outcome.injury": "Blessure ou atteinte",
        "outcome.no_harm": "Aucun dommage",
        "outcome.unknown": "Inconnue",
        "missing": "Ce champ est obligatoire.",
        "public_health_threat": "Menace grave pour la santé publique",
        "ai": "Ce qu'a fait l'IA",
        "ai_help": "Ces réponses permettent de compter les suggestions suivies, les tâches en "
        "cause et les problèmes de données. Répondez à ce que vous savez.",
        "ai_task": "Tâche de l'IA",
        "ai_task.detection": "Détection",
        "ai_task.diagnosis": "Aide au diagnostic",
        "ai_task.triage": "Tri ou priorisation",
        "ai_task.dosing": "Dosage",
        "ai_task.prediction": "Prédiction (risque, évolution)",
        "ai_task.generation": "Génération de texte ou d'image",
        "ai_task.other": "Autre",
        "ai_output": "Ce que l'IA a produit",
        "ai_output_help": "Tel que vous l'avez vu, sans nom de patient.",
        "ai_output_confidence": "Confiance affichée par l'IA (%), si elle en affichait une",
        "ai_clinician_action": "Ce que le clinicien a fait de cette suggestion",
        "ai_action.followed": "L'a suivie",
        "ai_action.partly_followed": "L'a suivie en partie",
        "ai_action.overrode": "Ne l'a pas suivie",
        "ai_action.did_not_see": "Ne l'a pas vue",
        "ai_patient_exposed": "La suggestion a-t-elle atteint la prise en charge du patient ?",
        "yes": "Oui",
        "no": "Non",
        "unknown": "Je ne sais pas",
        "ai_input": "Données fournies à l'IA",
        "ai_input.missing": "Données manquantes",
        "ai_input.wrong": "Données erronées",
        "ai_input.out_of_intended_population": "Patient hors de la population prévue",
        "ai_patient_age_band": "Tranche d'âge du patient",
        "ai_patient_age_band.80+": "80 ans et plus",
        "ai_patient_sex": "Sexe du patient",
        "ai_patient_sex.female": "Féminin",
        "ai_patient_sex.male": "Masculin",
        "ai_patient_sex.other": "Autre",
        "ai_patient_sex.unknown": "Inconnu",
        "years": "ans",
        "percent": "Un pourcentage entre 0 et 100.",
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
        "device_name_help": "Type the name, the manufacturer or the FDA submission number "
        "(K…, DEN…, P…) to choose from the catalogue, or type freely a device that is not in it.",
        "device_matches": "Catalogue devices",
        "device_found": "{n} catalogue device(s). Up and down arrows to browse, Enter to "
        "choose, Escape to close.",
        "device_none": "No catalogue device matches: free text.",
        "device_chosen": "Chosen from the catalogue: {name} ({manufacturer}). Manufacturer "
        "filled in.",
        "device_free": "Not in the catalogue: free text.",
        "device_in_catalogue": "In the catalogue",
        "device_versions": "Versions known to the registry: {versions}.",
        "device_no_versions": "No version of this device is known to the registry: please type it.",
        "date_format": "Date chosen: ",
        "not_after_today": "Today, {today}, at the latest.",
        "future": "This date is in the future: today, {today}, at the latest.",
        "after_awareness": "The incident cannot be later than the date you became aware of it.",
        "received": "Received on",
        "device": "Device",
        "choose": "— Choose —",
        "event_date": "Date of the incident",
        "awareness_date": "Date you became aware of it",
        "outcome": "Outcome for the patient",
        "outcome.death": "Death",
        "outcome.serious_deterioration": "Serious deterioration of health",
        "outcome.injury": "Injury",
        "outcome.no_harm": "No harm",
        "outcome.unknown": "Unknown",
        "missing": "This field is required.",
        "public_health_threat": "Serious public health threat",
        "ai": "What the AI did",
        "ai_help": "These answers let the authority count followed suggestions, the tasks "
        "involved and data problems. Answer what you know.",
        "ai_task": "Task of the AI",
        "ai_task.detection": "Detection",
        "ai_task.diagnosis": "Diagnosis support",
        "ai_task.triage": "Triage or prioritisation",
        "ai_task.dosing": "Dosing",
        "ai_task.prediction": "Prediction (risk, course)",
        "ai_task.generation": "Text or image generation",
        "ai_task.other": "Other",
        "ai_output": "What the AI output",
        "ai_output_help": "As you saw it, without the patient's name.",
        "ai_output_confidence": "Confidence the AI showed (%), if it showed one",
        "ai_clinician_action": "What the clinician did with the suggestion",
        "ai_action.followed": "Followed it",
        "ai_action.partly_followed": "Partly followed it",
        "ai_action.overrode": "Overrode it",
        "ai_action.did_not_see": "Did not see it",
        "ai_patient_exposed": "Did the suggestion reach the patient's care?",
        "yes": "Yes",
        "no": "No",
        "unknown": "I don't know",
        "ai_input": "Data given to the AI",
        "ai_input.missing": "Missing data",
        "ai_input.wrong": "Wrong data",
        "ai_input.out_of_intended_population": "Patient outside the intended population",
        "ai_patient_age_band": "Patient's age band",
        "ai_patient_age_band.80+": "80 and over",
        "ai_patient_sex": "Patient's sex",
        "ai_patient_sex.female": "Female",
        "ai_patient_sex.male": "Male",
        "ai_patient_sex.other": "Other",
        "ai_patient_sex.unknown": "Unknown",
        "years": "years",
        "percent": "A percentage from 0 to 100.",
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
    """Language from ``?lang=``, else the browser's preference by q-value, else French."""
    if query in LANGUAGES:
        return query
    best: tuple[float, int, str] | None = None
    for position, part in enumerate((accept_language or "").split(",")):
        code, *params = (p.strip() for p in part.split(";"))
        language = code[:2].lower()
        if language not in LANGUAGES or (len(code) > 2 and code[2] != "-"):
            continue
        weight = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        # q=0 means "not acceptable"; among equal weights the first listed wins (RFC 9110).
        if 0 < weight <= 1 and (best is None or (-weight, position) < (-best[0], best[1])):
            best = (weight, position, language)
    return best[2] if best else "fr"
