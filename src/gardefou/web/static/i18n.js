/* Portal strings in English and French. Elements carry data-i18n="key" (text) or
   data-i18n-placeholder; the chosen language is kept in the URL (?lang=fr). */
(function () {
  "use strict";
  const S = {
    en: {
      title: "Take it down — request removal of an intimate image",
      skip: "Skip to the form",
      intro: "If an intimate image of you (real or AI-made) was published without your consent, ask for its removal here. No account is needed. The platform must remove it, and its known copies, within 48 hours of a valid request.",
      privacy: "Your photo never leaves this device: your browser computes a fingerprint (a PDQ hash) and only that fingerprint is sent.",
      file_legend: "File a request", kind_label: "Who is filing", kind_tid: "I am the person depicted, or I act on their behalf",
      kind_reg: "A regulator's removal notice",
      issuer_label: "Regulator", issuer_ref_label: "Notice reference number",
      ident_legend: "1. Identify the image and where it is",
      files_label: "The image (optional, stays on your device)",
      files_hint: "Choose the image or a copy of it. We compute its fingerprint here, in your browser.",
      hashing: "Computing the fingerprint on this device…", hash_done: "fingerprint computed on this device",
      low_quality: "too uniform to match reliably; add a link too",
      locations_label: "Where it appears (links or post ids, one per line)",
      description_label: "Anything that helps us find it (optional)",
      goodfaith_legend: "2. Statement of good faith",
      goodfaith_check: "I believe in good faith that this intimate image was published without the consent of the person depicted.",
      goodfaith_info: "Relevant information (optional): why it is not consensual",
      sign_legend: "3. Signature",
      sign_label: "Your full name (this is your electronic signature)",
      onbehalf_check: "I am authorized to act on behalf of the person depicted",
      authority_label: "On what basis (for example: parent, legal representative)",
      contact_legend: "4. How we can contact you", email_label: "Email", phone_label: "Phone (optional)",
      contact_hint: "Give at least one way to reach you.",
      submit: "Send the request",
      sent_title: "Request received",
      sent_keep: "Keep this case number and PIN: you need both to follow your request. The PIN is shown only once.",
      case_number: "Case number", pin: "PIN", deadline: "Removal deadline",
      status_legend: "Follow a request", status_btn: "Show status",
      status: "Status", time_left: "Time left", copies_removed: "Copies removed",
      history: "History", received_at: "Received", closed_at: "Closed",
      "st.received": "Received — the clock is running", "st.in_review": "Being reviewed",
      "st.removed": "Removed", "st.rejected": "Not actionable", "st.withdrawn": "Withdrawn",
      "clock.ok": "on time", "clock.due_soon": "deadline close", "clock.breached": "deadline passed",
      "clock.met": "removed within the deadline", "clock.missed": "removed after the deadline",
      hours: "h", minutes: "min", resolution: "Outcome",
      protect_title: "Protect an image before it is shared",
      protect_intro: "Worried that an intimate image of you could be posted? Its fingerprint, computed on this device, is added to the list of images this platform blocks. The image itself is never sent.",
      protect_btn: "Protect these images",
      withdraw: "Withdraw my request", withdraw_confirm: "Withdraw this request? The removal will not go ahead.",
      error: "Something is missing", help_title: "Need help now?",
      help_text: "In the US: NCMEC's Take It Down (for minors) and the Cyber Civil Rights Initiative helpline. In France: 3018. In Australia: eSafety.",
    },
    fr: {
      title: "Retrait d’une image intime — demande de suppression",
      skip: "Aller au formulaire",
      intro: "Si une image intime de vous (réelle ou générée par IA) a été publiée sans votre consentement, demandez son retrait ici. Aucun compte n’est nécessaire. La plateforme doit la retirer, ainsi que ses copies connues, dans les 48 heures suivant une demande valide.",
      privacy: "Votre photo ne quitte jamais cet appareil : votre navigateur calcule une empreinte (un hachage PDQ) et seule cette empreinte est envoyée.",
      file_legend: "Déposer une demande", kind_label: "Qui dépose la demande", kind_tid: "Je suis la personne représentée, ou j’agis pour elle",
      kind_reg: "Injonction de retrait d’une autorité",
      issuer_label: "Autorité", issuer_ref_label: "Numéro de référence de l’injonction",
      ident_legend: "1. Identifier l’image et l’endroit où elle se trouve",
      files_label: "L’image (facultatif, reste sur votre appareil)",
      files_hint: "Choisissez l’image ou une copie. Son empreinte est calculée ici, dans votre navigateur.",
      hashing: "Calcul de l’empreinte sur cet appareil…", hash_done: "empreinte calculée sur cet appareil",
      low_quality: "trop uniforme pour être reconnue ; ajoutez aussi un lien",
      locations_label: "Où elle apparaît (liens ou identifiants de publication, un par ligne)",
      description_label: "Tout ce qui aide à la trouver (facultatif)",
      goodfaith_legend: "2. Déclaration de bonne foi",
      goodfaith_check: "Je crois de bonne foi que cette image intime a été publiée sans le consentement de la personne représentée.",
      goodfaith_info: "Informations utiles (facultatif) : pourquoi elle n’est pas consentie",
      sign_legend: "3. Signature",
      sign_label: "Votre nom complet (c’est votre signature électronique)",
      onbehalf_check: "Je suis autorisé·e à agir pour la personne représentée",
      authority_label: "À quel titre (par exemple : parent, représentant légal)",
      contact_legend: "4. Comment vous contacter", email_label: "Courriel", phone_label: "Téléphone (facultatif)",
      contact_hint: "Indiquez au moins un moyen de vous joindre.",
      submit: "Envoyer la demande",
      sent_title: "Demande reçue",
      sent_keep: "Conservez ce numéro de dossier et ce code : les deux sont nécessaires pour suivre votre demande. Le code n’est affiché qu’une fois.",
      case_number: "Numéro de dossier", pin: "Code", deadline: "Date limite de retrait",
      status_legend: "Suivre une demande", status_btn: "Voir l’état",
      status: "État", time_left: "Temps restant", copies_removed: "Copies retirées",
      history: "Historique", received_at: "Reçue", closed_at: "Close",
      "st.received": "Reçue — le délai court", "st.in_review": "En cours d’examen",
      "st.removed": "Retirée", "st.rejected": "Non recevable", "st.withdrawn": "Retirée par vous",
      "clock.ok": "dans les délais", "clock.due_soon": "échéance proche", "clock.breached": "délai dépassé",
      "clock.met": "retirée dans le délai", "clock.missed": "retirée après le délai",
      hours: "h", minutes: "min", resolution: "Résultat",
      protect_title: "Protéger une image avant qu’elle soit partagée",
      protect_intro: "Vous craignez qu’une image intime de vous soit publiée ? Son empreinte, calculée sur cet appareil, est ajoutée à la liste des images que cette plateforme bloque. L’image elle-même n’est jamais envoyée.",
      protect_btn: "Protéger ces images",
      withdraw: "Retirer ma demande", withdraw_confirm: "Retirer cette demande ? Le retrait n’aura pas lieu.",
      error: "Il manque quelque chose", help_title: "Besoin d’aide maintenant ?",
      help_text: "En France : 3018 (gratuit, anonyme). Aux États-Unis : Take It Down du NCMEC (mineurs) et la ligne de la Cyber Civil Rights Initiative. En Australie : eSafety.",
    },
  };
  function pick() {
    const q = new URLSearchParams(location.search).get("lang");
    if (q && S[q]) return q;
    const nav = (navigator.language || "en").slice(0, 2);
    return S[nav] ? nav : "en";
  }
  const I18N = {
    lang: pick(),
    t(key) { return (S[this.lang] && S[this.lang][key]) || S.en[key] || key; },
    apply(root) {
      document.documentElement.lang = this.lang;
      (root || document).querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = this.t(el.dataset.i18n); });
      (root || document).querySelectorAll("[data-i18n-placeholder]").forEach((el) => { el.placeholder = this.t(el.dataset.i18nPlaceholder); });
      document.title = this.t("title");
      document.querySelectorAll(".lang button").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.lang === this.lang)));
    },
    set(lang) {
      if (!S[lang]) return;
      this.lang = lang;
      const u = new URL(location.href); u.searchParams.set("lang", lang); history.replaceState(null, "", u);
      this.apply();
    },
  };
  window.I18N = I18N;
})();
