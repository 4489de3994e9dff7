"""What demo customers and agents say, in the customer's language.

Each topic has a subject, the customer's opening message and the agent's answer; the turns
around them (a follow-up, thanks, a question back, the closing) are shared. Placeholders:
``{first}`` the name the customer goes by, ``{agent}``, ``{order}``, ``{product}``, ``{placed}``
and ``{date}`` (dates in the customer's language), ``{carrier}``, ``{tracking}``, ``{amount}``.
Call notes and internal notes are the agents' working language, English.
"""

TOPICS = ("where_is_order", "refund", "damaged", "exchange", "product_question", "account", "invoice")
ORDER_TOPICS = frozenset({"where_is_order", "refund", "damaged", "exchange", "invoice"})

MONTHS = {
    "en": "January February March April May June July August September October November December",
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "de": "Januar Februar März April Mai Juni Juli August September Oktober November Dezember",
}
DATE_FORMAT = {"en": "{day} {month}", "es": "{day} de {month}", "fr": "{day} {month}", "de": "{day}. {month}"}

LINES: dict[str, dict[str, str]] = {
    "en": {
        "hello": "Hello,",
        "greeting": "Hi {first},",
        "signoff": "Best regards,\n{agent}",
        "followup": "Thanks for the quick answer. Any news on this? I'd like to get it sorted this week.",
        "thanks": "That's perfect, thank you for your help!",
        "unhappy": "It's sorted now, but it took far too long.",
        "pending": "Could you send me a photo or a few more details so I can finish this for you?",
        "closing": "Glad we could sort this out. I'm closing this conversation; just reply if anything else comes up.",
        "hold": "Let me check that for you, one moment please.",
        "where_is_order.subject": "Where is my order #{order}?",
        "where_is_order.opening": "I ordered the {product} on {placed} (order #{order}) and it still hasn't arrived. "
        "The website said it would be here by {date}. Can you tell me where it is?",
        "where_is_order.reply": "I'm sorry about the wait. Order #{order} left our warehouse with {carrier} "
        "(tracking {tracking}) and is held at their depot. I've asked them to prioritise it and I'm keeping an eye "
        "on it.",
        "where_is_order.reply_unshipped": "I'm sorry about the wait. Order #{order} hasn't left the warehouse yet "
        "because one item was out of stock; it ships within two days and you'll get the tracking link by email.",
        "refund.subject": "Refund for order #{order}",
        "refund.opening": "I sent back the {product} from order #{order} last week. When will I get my refund of "
        "{amount}?",
        "refund.reply": "Thanks for your patience. The return for order #{order} has arrived and I've started a refund "
        "of {amount}; it usually shows on your statement within 3-5 business days.",
        "damaged.subject": "{product} arrived damaged",
        "damaged.opening": "The {product} from order #{order} arrived with a broken part, and the box was crushed. "
        "What can I do?",
        "damaged.reply": "I'm really sorry it arrived like that. I've sent you a free replacement {product}; there's "
        "no need to return anything. You'll get a tracking link as soon as it ships.",
        "exchange.subject": "Exchange the size for order #{order}",
        "exchange.opening": "The {product} from order #{order} is a bit too small. Can I exchange it for one size up?",
        "exchange.reply": "Of course! I've set up a free exchange for order #{order}. Print the return label from the "
        "link in your email and we'll send the bigger size as soon as the parcel is scanned.",
        "product_question.subject": "Question about the {product}",
        "product_question.opening": "I'm thinking of buying the {product}. Is it good for winter hiking, and how "
        "does the sizing run?",
        "product_question.reply": "Good question! The {product} works well down to about -5 °C and is true to size. "
        "If you're between sizes, go one up.",
        "account.subject": "Can't log in to my account",
        "account.opening": "I've tried to reset my password three times but the email never arrives. Can you help me "
        "get into my account?",
        "account.reply": "I've checked your account and sent the reset link again; it can take a few minutes and "
        "sometimes lands in the spam folder. Let me know if it still doesn't arrive.",
        "invoice.subject": "Invoice for order #{order}",
        "invoice.opening": "Could you send me an invoice for order #{order}? I need it with my company name for "
        "expenses.",
        "invoice.reply": "Here you go: the invoice for order #{order} ({amount}) is attached. If you need your "
        "company's VAT number on it, reply with it and I'll reissue it.",
    },
    "es": {
        "hello": "Hola:",
        "greeting": "Hola, {first}:",
        "signoff": "Un saludo,\n{agent}",
        "followup": "Gracias por la respuesta. ¿Hay alguna novedad? Me gustaría tenerlo resuelto esta semana.",
        "thanks": "¡Perfecto, muchas gracias por la ayuda!",
        "unhappy": "Ya está resuelto, pero ha tardado demasiado.",
        "pending": "¿Me podrías enviar una foto o algún detalle más para que pueda terminar de gestionarlo?",
        "closing": "Me alegro de que esté resuelto. Cierro la conversación, pero si necesitas algo más, solo tienes "
        "que responder.",
        "hold": "Déjame que lo compruebe, un momento, por favor.",
        "where_is_order.subject": "¿Dónde está mi pedido #{order}?",
        "where_is_order.opening": "Hice el pedido #{order} (artículo «{product}») el {placed} y todavía no ha "
        "llegado. En la web ponía que llegaría antes del {date}. ¿Me podéis decir dónde está?",
        "where_is_order.reply": "Siento mucho la espera. El pedido #{order} salió de nuestro almacén con {carrier} "
        "(seguimiento {tracking}) y está retenido en su centro de reparto. Les he pedido que lo prioricen y lo sigo de "
        "cerca.",
        "where_is_order.reply_unshipped": "Siento mucho la espera. El pedido #{order} aún no ha salido del almacén "
        "porque un artículo estaba agotado; saldrá en los próximos dos días y te enviaremos el enlace de seguimiento.",
        "refund.subject": "Reembolso del pedido #{order}",
        "refund.opening": "Devolví el artículo «{product}» del pedido #{order} la semana pasada. ¿Cuándo recibiré el "
        "reembolso de {amount}?",
        "refund.reply": "Gracias por tu paciencia. La devolución del pedido #{order} ya ha llegado y he iniciado el "
        "reembolso de {amount}; suele tardar de 3 a 5 días hábiles en aparecer en tu cuenta.",
        "damaged.subject": "El artículo «{product}» llegó dañado",
        "damaged.opening": "El artículo «{product}» del pedido #{order} llegó con una pieza rota y la caja aplastada. "
        "¿Qué puedo hacer?",
        "damaged.reply": "Lamento mucho que haya llegado así. Te he enviado otro «{product}» sin coste; no hace falta "
        "que devuelvas nada. Recibirás el enlace de seguimiento en cuanto salga.",
        "exchange.subject": "Cambio de talla del pedido #{order}",
        "exchange.opening": "El artículo «{product}» del pedido #{order} me queda un poco pequeño. ¿Puedo cambiarlo "
        "por una talla más?",
        "exchange.reply": "¡Claro! He creado un cambio gratuito para el pedido #{order}. Imprime la etiqueta de "
        "devolución del enlace que te llegará por correo y te enviaremos la talla mayor en cuanto se escanee el "
        "paquete.",
        "product_question.subject": "Pregunta sobre el artículo «{product}»",
        "product_question.opening": "Estoy pensando en comprar el artículo «{product}». ¿Sirve para senderismo en "
        "invierno? ¿Qué tal es de talla?",
        "product_question.reply": "¡Buena pregunta! «{product}» funciona bien hasta unos -5 °C y la talla es la "
        "habitual. Si dudas entre dos tallas, elige la mayor.",
        "account.subject": "No puedo entrar en mi cuenta",
        "account.opening": "He intentado restablecer la contraseña tres veces, pero el correo no llega nunca. ¿Me "
        "ayudáis a entrar en mi cuenta?",
        "account.reply": "He revisado tu cuenta y te he reenviado el enlace para restablecer la contraseña; puede "
        "tardar unos minutos y a veces acaba en la carpeta de spam. Dime si sigue sin llegar.",
        "invoice.subject": "Factura del pedido #{order}",
        "invoice.opening": "¿Me podéis enviar la factura del pedido #{order}? La necesito a nombre de mi empresa.",
        "invoice.reply": "Aquí la tienes: te adjunto la factura del pedido #{order} ({amount}). Si necesitas que "
        "aparezca el NIF de tu empresa, respóndeme con él y la vuelvo a emitir.",
    },
    "fr": {
        "hello": "Bonjour,",
        "greeting": "Bonjour {first},",
        "signoff": "Bien cordialement,\n{agent}",
        "followup": "Merci pour votre réponse rapide. Avez-vous du nouveau ? J'aimerais régler cela cette semaine.",
        "thanks": "C'est parfait, merci beaucoup pour votre aide !",
        "unhappy": "C'est réglé, mais cela a pris beaucoup trop de temps.",
        "pending": "Pourriez-vous m'envoyer une photo ou quelques précisions pour que je puisse finaliser votre "
        "demande ?",
        "closing": "Ravi que tout soit réglé. Je clôture cette conversation ; répondez simplement si vous avez besoin "
        "d'autre chose.",
        "hold": "Je vérifie cela pour vous, un instant s'il vous plaît.",
        "where_is_order.subject": "Où est ma commande n° {order} ?",
        "where_is_order.opening": "J'ai passé la commande n° {order} (article « {product} ») le {placed} et je ne "
        "l'ai toujours pas reçue. Le site indiquait une livraison avant le {date}. Pouvez-vous me dire où elle est ?",
        "where_is_order.reply": "Je suis désolé pour cette attente. La commande n° {order} a quitté notre entrepôt "
        "avec {carrier} (suivi {tracking}) et elle est bloquée à leur dépôt. Je leur ai demandé de la traiter en "
        "priorité et je la suis de près.",
        "where_is_order.reply_unshipped": "Je suis désolé pour cette attente. La commande n° {order} n'a pas encore "
        "quitté l'entrepôt car un article était en rupture de stock ; elle partira d'ici deux jours et vous "
        "recevrez le lien de suivi.",
        "refund.subject": "Remboursement de la commande n° {order}",
        "refund.opening": "J'ai renvoyé l'article « {product} » de la commande n° {order} la semaine dernière. Quand "
        "vais-je recevoir le remboursement de {amount} ?",
        "refund.reply": "Merci pour votre patience. Le retour de la commande n° {order} est bien arrivé et j'ai lancé "
        "le remboursement de {amount} ; il apparaît en général sous 3 à 5 jours ouvrés sur votre relevé.",
        "damaged.subject": "Article « {product} » arrivé endommagé",
        "damaged.opening": "L'article « {product} » de la commande n° {order} est arrivé avec une pièce cassée, et le "
        "carton était écrasé. Que puis-je faire ?",
        "damaged.reply": "Je suis vraiment désolé. Je vous envoie gratuitement un nouvel article « {product} » ; "
        "inutile de nous renvoyer quoi que ce soit. Vous recevrez le lien de suivi dès l'expédition.",
        "exchange.subject": "Échange de taille pour la commande n° {order}",
        "exchange.opening": "L'article « {product} » de la commande n° {order} est un peu petit. Puis-je l'échanger "
        "contre la taille au-dessus ?",
        "exchange.reply": "Bien sûr ! J'ai créé un échange gratuit pour la commande n° {order}. Imprimez l'étiquette "
        "de retour depuis le lien reçu par e-mail et nous enverrons la taille au-dessus dès que le colis sera scanné.",
        "product_question.subject": "Question sur l'article « {product} »",
        "product_question.opening": "J'hésite à acheter l'article « {product} ». Convient-il pour la randonnée en "
        "hiver, et taille-t-il normalement ?",
        "product_question.reply": "Bonne question ! L'article « {product} » convient jusqu'à environ -5 °C et taille "
        "normalement. Si vous hésitez entre deux tailles, prenez la plus grande.",
        "account.subject": "Impossible de me connecter à mon compte",
        "account.opening": "J'ai essayé trois fois de réinitialiser mon mot de passe, mais je ne reçois jamais "
        "l'e-mail. Pouvez-vous m'aider à accéder à mon compte ?",
        "account.reply": "J'ai vérifié votre compte et renvoyé le lien de réinitialisation ; il peut mettre quelques "
        "minutes à arriver et atterrit parfois dans les spams. Dites-moi s'il n'arrive toujours pas.",
        "invoice.subject": "Facture de la commande n° {order}",
        "invoice.opening": "Pourriez-vous m'envoyer la facture de la commande n° {order} ? J'en ai besoin au nom de "
        "mon entreprise.",
        "invoice.reply": "Voici la facture de la commande n° {order} ({amount}) en pièce jointe. S'il vous faut le "
        "numéro de TVA de votre entreprise, répondez-moi avec et je la réémettrai.",
    },
    "de": {
        "hello": "Hallo,",
        "greeting": "Hallo {first},",
        "signoff": "Viele Grüße\n{agent}",
        "followup": "Danke für die schnelle Antwort. Gibt es schon Neuigkeiten? Ich würde das gern diese Woche klären.",
        "thanks": "Perfekt, vielen Dank für Ihre Hilfe!",
        "unhappy": "Jetzt ist es erledigt, aber es hat viel zu lange gedauert.",
        "pending": "Könnten Sie mir ein Foto oder ein paar weitere Details schicken, damit ich das für Sie abschließen "
        "kann?",
        "closing": "Schön, dass wir das klären konnten. Ich schließe dieses Gespräch; antworten Sie einfach, falls "
        "noch etwas ist.",
        "hold": "Ich sehe gleich für Sie nach, einen Moment bitte.",
        "where_is_order.subject": "Wo ist meine Bestellung Nr. {order}?",
        "where_is_order.opening": "Ich habe am {placed} die Bestellung Nr. {order} (Artikel „{product}“) aufgegeben "
        "und sie ist immer noch nicht angekommen. Laut Website sollte sie bis zum {date} da sein. Wo ist sie?",
        "where_is_order.reply": "Es tut mir leid, dass Sie warten müssen. Die Bestellung Nr. {order} hat unser Lager "
        "mit {carrier} verlassen (Sendungsnummer {tracking}) und hängt im Verteilzentrum fest. Ich habe um bevorzugte "
        "Zustellung gebeten und behalte sie im Blick.",
        "where_is_order.reply_unshipped": "Es tut mir leid, dass Sie warten müssen. Die Bestellung Nr. {order} hat "
        "unser Lager noch nicht verlassen, weil ein Artikel nicht vorrätig war; sie geht in den nächsten zwei Tagen "
        "raus und Sie bekommen die Sendungsnummer per E-Mail.",
        "refund.subject": "Erstattung für Bestellung Nr. {order}",
        "refund.opening": "Ich habe den Artikel „{product}“ aus der Bestellung Nr. {order} letzte Woche "
        "zurückgeschickt. Wann bekomme ich die {amount} zurück?",
        "refund.reply": "Danke für Ihre Geduld. Die Rücksendung zur Bestellung Nr. {order} ist angekommen und ich habe "
        "die Erstattung über {amount} veranlasst; sie ist in der Regel nach 3-5 Werktagen auf Ihrem Konto.",
        "damaged.subject": "Artikel „{product}“ beschädigt angekommen",
        "damaged.opening": "Der Artikel „{product}“ aus der Bestellung Nr. {order} kam mit einem gebrochenen Teil an, "
        "der Karton war eingedrückt. Was kann ich tun?",
        "damaged.reply": "Das tut mir wirklich leid. Ich habe Ihnen kostenlos einen neuen Artikel „{product}“ "
        "geschickt; Sie müssen nichts zurücksenden. Den Link zur Sendungsverfolgung bekommen Sie beim Versand.",
        "exchange.subject": "Umtausch der Größe für Bestellung Nr. {order}",
        "exchange.opening": "Der Artikel „{product}“ aus der Bestellung Nr. {order} ist etwas zu klein. Kann ich ihn "
        "gegen eine Nummer größer umtauschen?",
        "exchange.reply": "Natürlich! Ich habe einen kostenlosen Umtausch für die Bestellung Nr. {order} angelegt. "
        "Drucken Sie das Rücksendeetikett über den Link in Ihrer E-Mail aus; die größere Größe schicken wir los, "
        "sobald das Paket gescannt ist.",
        "product_question.subject": "Frage zum Artikel „{product}“",
        "product_question.opening": "Ich überlege, den Artikel „{product}“ zu kaufen. Ist er für Winterwanderungen "
        "geeignet und fällt er normal aus?",
        "product_question.reply": "Gute Frage! Der Artikel „{product}“ eignet sich bis etwa -5 °C und fällt normal "
        "aus. Wenn Sie zwischen zwei Größen liegen, nehmen Sie die größere.",
        "account.subject": "Ich komme nicht in mein Konto",
        "account.opening": "Ich habe dreimal versucht, mein Passwort zurückzusetzen, aber die E-Mail kommt nie an. "
        "Können Sie mir helfen?",
        "account.reply": "Ich habe Ihr Konto geprüft und den Link zum Zurücksetzen erneut geschickt; das kann ein paar "
        "Minuten dauern und landet manchmal im Spam-Ordner. Geben Sie mir Bescheid, falls er wieder nicht ankommt.",
        "invoice.subject": "Rechnung für Bestellung Nr. {order}",
        "invoice.opening": "Könnten Sie mir die Rechnung für die Bestellung Nr. {order} schicken? Ich brauche sie auf "
        "meinen Firmennamen.",
        "invoice.reply": "Gern, die Rechnung für die Bestellung Nr. {order} ({amount}) finden Sie im Anhang. Falls "
        "Ihre USt-IdNr. darauf stehen soll, schicken Sie sie mir einfach und ich stelle sie neu aus.",
    },
}

# The agent's log of a phone call, and of calling back.
CALL_NOTES = {
    "where_is_order": "Call from {name}: order #{order} ({product}) hasn't arrived, it was promised by {date}. "
    "Customer is getting impatient.",
    "refund": "Call from {name}: asking when the refund of {amount} for order #{order} will arrive.",
    "damaged": "Call from {name}: the {product} from order #{order} arrived damaged, wants a replacement.",
    "exchange": "Call from {name}: wants to exchange the {product} (order #{order}) for a bigger size.",
    "product_question": "Call from {name}: questions about the {product} (warmth, sizing) before buying.",
    "account": "Call from {name}: cannot log in, the password reset email does not arrive.",
    "invoice": "Call from {name}: needs an invoice for order #{order} with the company name on it.",
}
CALL_BACK = "Called {first} back and explained: "

INTERNAL_NOTES = {
    "where_is_order": "Checked with {carrier}: parcel {tracking} is held at the regional depot. Asked for priority "
    "delivery.",
    "refund": "Return scanned at the warehouse. Refund of {amount} for #{order} approved, Billing to release it.",
    "damaged": "Replacement for #{order} created, no return needed. Damage logged with {carrier}.",
    "exchange": "Exchange label sent for #{order}; the next size up is in stock.",
    "product_question": "Pre-sales question. Customer also browsed similar items; the merino socks would go well.",
    "account": "Reset emails were bouncing because of a typo in the stored address; fixed it.",
    "invoice": "Invoice PDF for #{order} generated from the store admin.",
}
EXTRA_NOTES = {
    "vip": "VIP customer (top lifetime value) - please handle personally.",
    "repeat": "Third contact this week about the same refund. Escalated to Billing.",
    "duplicate": "Caller gave order #{order}, but that order is on another customer record with the same name. "
    "Probably a duplicate profile - merge?",
}

CSAT_COMMENTS = {
    "en": {
        5: ["Fast and friendly, thank you!", "Sorted in one reply. Great service."],
        4: ["Good help, it just took a little while.", "Helpful answer."],
        3: ["Okay in the end, but I had to ask twice."],
        2: ["Slow, and I had to explain everything again."],
        1: ["Took far too long and nobody kept me updated. Very disappointed."],
    },
    "es": {
        5: ["Rápidos y muy amables, ¡gracias!", "Resuelto a la primera. Un servicio estupendo."],
        4: ["Buena ayuda, aunque tardaron un poco.", "Respuesta útil."],
        3: ["Al final bien, pero tuve que preguntar dos veces."],
        2: ["Lento, y tuve que explicarlo todo otra vez."],
        1: ["Tardaron muchísimo y nadie me mantuvo informado. Muy decepcionante."],
    },
    "fr": {
        5: ["Rapide et aimable, merci !", "Réglé en une seule réponse. Excellent service."],
        4: ["Bonne aide, même si c'était un peu long.", "Réponse utile."],
        3: ["Correct au final, mais j'ai dû demander deux fois."],
        2: ["Lent, et j'ai dû tout réexpliquer."],
        1: ["Beaucoup trop long, et personne ne m'a tenu informé. Très décevant."],
    },
    "de": {
        5: ["Schnell und freundlich, danke!", "Mit einer Antwort erledigt. Toller Service."],
        4: ["Gute Hilfe, hat nur etwas gedauert.", "Hilfreiche Antwort."],
        3: ["Am Ende okay, aber ich musste zweimal nachfragen."],
        2: ["Langsam, und ich musste alles noch einmal erklären."],
        1: ["Hat viel zu lange gedauert und niemand hat mich informiert. Sehr enttäuschend."],
    },
}


def date_words(locale: str, day: int, month: int) -> str:
    return DATE_FORMAT[locale].format(day=day, month=MONTHS[locale].split()[month - 1])


def money_words(locale: str, amount: object) -> str:
    if locale == "en":
        return f"€{amount}"
    return f"{str(amount).replace('.', ',')} €"
